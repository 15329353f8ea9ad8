"""France: RappelConso product recalls (all categories), from data.economie.gouv.fr (OpenDataSoft).

Envelope of the ODS v2 catalog API: ``{total_count, links, records: [{links, record: {id,
timestamp, size, fields: {…}}}]}``; a record's data is under ``record.fields`` (SOURCES.md B6).

Quirks: text uses ``\\r\\n`` line breaks; multi-valued fields are flattened, lines or double
spaces separating entries (``5713795220915 Tous les lots  5713795220922 Tous les lots``), and
check-box fields as labels run together (``Ne plus consommer Rapporter le produit au point de
vente``; later datasets use ``|``); ``date_ref`` is only the month (``2022-03``); the end of the
recall is a French long date (``jeudi 31 mars 2022``); a GTIN may sit in
``noms_des_modeles_ou_references`` instead of ``identification_des_produits``; 8-digit lot
numbers pass the GTIN-8 check by chance (``18012224``), so only 12-14 digit GTINs are kept.
This 2022 export has no link to the fiche page: later exports of the same dataset carry
``lien_vers_la_fiche_rappel`` and ``date_de_publication``, used when present; otherwise ``url``
is the record's own API link. ``reference_fiche`` stays the id across versions
(``ndeg_de_version``): a new version updates the record, its predecessor goes to ``versions``.
"""
import re

from scrapers.bases import JsonSpider, clean
from vn.dates import parse_date
from vn.fold import squash

# categorie_de_produit -> the kind that chooses the advice shown.
KINDS = (("Alimentation", "food"), ("Automobiles", "vehicle"), ("Bébés-Enfants", "children"),
         ("Hygiène-Beauté", "cosmetic"), ("Appareils électriques", "device"), ("Electroménager", "device"))
LINE_BREAK = re.compile(r"\s*(?:\r?\n|\|)\s*")
# Identification lists also separate entries by double spaces ("… Tous les lots  5713…").
LOT_BREAK = re.compile(r"\s*(?:\r?\n|\s{2,}|\|)\s*")
# Check-box labels run together: each starts with a capital ("Ne plus consommer Rapporter …").
LABEL_BREAK = re.compile(r"\s*\|\s*|\s+(?=[A-ZÀ-ÖØ-Þ])")


def prose(value):
    """Free text with its whitespace (\\r\\n included) collapsed."""
    value = clean(value)
    if value is None:
        return None
    return squash(str(value)) or None


def entries(value, split=LINE_BREAK):
    """A flattened multi-valued field as a '; '-separated list."""
    value = clean(value)
    if value is None:
        return None
    parts = [squash(part) for part in split.split(str(value).strip())]
    return "; ".join(part for part in parts if part) or None


class FrRappelconsoSpider(JsonSpider):
    name = "fr_rappelconso"
    table = "recalls"
    title = "RappelConso: product recalls in France (food, consumer goods, vehicles…)"
    publisher = "DGCCRF / DGAL (RappelConso), via data.economie.gouv.fr"
    jurisdiction = "FR"
    licence = "Licence Ouverte / Etalab 2.0"
    licence_url = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
    live_url = ("https://data.economie.gouv.fr/api/v2/catalog/datasets/rappelconso0/records"
                "?order_by=date_ref+desc&limit=10&offset=0&timezone=Europe/Paris")
    sample = "fr_rappelconso.json"
    cadence_days = 7   # RappelConso publishes notices most days
    complete_listing = False  # the feed shows the latest records only
    records_path = ("records",)

    def post_process(self, record, row):
        data = row["record"]["fields"]
        record["source_id"] = clean(data.get("reference_fiche"))
        self_link = next((clean(link.get("href")) for link in row.get("links") or []
                          if link.get("rel") == "self"), None)
        record["url"] = clean(data.get("lien_vers_la_fiche_rappel")) or self_link

        record["brand"] = prose(data.get("nom_de_la_marque_du_produit"))
        record["product"] = entries(data.get("noms_des_modeles_ou_references"))
        brand, product = record["brand"] or "", record["product"] or ""
        title = prose(data.get("libelle")) or (
            product if brand.lower() in product.lower() else " – ".join(filter(None, (brand, product))))
        record["title"] = title or None   # whole: pages shorten it on display
        record["category"] = " / ".join(filter(None, (prose(data.get("categorie_de_produit")),
                                                      prose(data.get("sous_categorie_de_produit"))))) or None

        identification = data.get("identification_des_produits")
        # Identification lists hold GTINs unlabelled; 8-digit lot numbers pass the GTIN-8 check by chance.
        self.set_gtins(record, identification, data.get("noms_des_modeles_ou_references"), labelled=False, min_length=12)
        record["lots"] = entries(identification, split=LOT_BREAK)

        reason = prose(data.get("motif_du_rappel"))
        risks = entries(data.get("risques_encourus_par_le_consommateur"), split=LABEL_BREAK)
        more = prose(data.get("description_complementaire_du_risque"))
        record["hazard"] = " — ".join(filter(None, (
            reason, risks and f"Risques : {risks}", more if more and more not in (reason or "") else None))) or None
        conduct = entries(data.get("conduites_a_tenir_par_le_consommateur"), split=LABEL_BREAK)
        compensation = entries(data.get("modalites_de_compensation"), split=LABEL_BREAK)
        record["remedy"] = " — ".join(filter(None, (
            conduct, compensation and f"Compensation : {compensation}"))) or None

        distributors = entries(data.get("distributeurs"))
        record["distribution"] = " — ".join(filter(None, (
            prose(data.get("zone_geographique_de_vente")),
            distributors and f"Distributeurs : {distributors}"))) or None

        end_text = clean(data.get("date_de_fin_de_la_procedure_de_rappel"))
        end = parse_date(end_text)
        # The announced end of the recall procedure; RappelConso gives no status field of its own.
        self.set_date(record, "ended", end_text)
        record["status"] = "unknown"
        category = prose(data.get("categorie_de_produit")) or ""
        record["kind"] = next((kind for prefix, kind in KINDS if category.startswith(prefix)), "other")
        record["counterfeit"] = 0
        record["notes"] = " — ".join(filter(None, (
            prose(data.get("nature_juridique_du_rappel")),
            end_text and f"Fin de la procédure de rappel : {end.iso or end_text}"))) or None
        record["authority"] = "RappelConso (DGCCRF / DGAL)"
        # A real publication date when the export has one; else the month of the fiche.
        self.set_date(record, "published", clean(data.get("date_de_publication")) or data.get("date_ref"))
        return record
