"""U.S. CPSC recalls from the official RSS feed (the latest ~40 recall notices).

Feed quirks (SOURCES.md B2): UTF-8 with a BOM; ``pubDate`` is not RFC 822 but a tab then
``November 10, 2021``; ``description`` is escaped HTML (``<p><span>…``) holding the hazard
sentence; titles can carry a double-escaped ``&amp;`` and doubled spaces; the year folder in
``link`` is CPSC's fiscal year, and the slug follows the title *as first published* (it can
differ from the current title), so the stable id is the uuid in ``guid``
(``https://www.cpsc.gov/_{uuid}``).

Richer live path for later: the SaferProducts.gov REST API,
``https://www.saferproducts.gov/RestWebServices/Recall?format=json&RecallDateStart=YYYY-MM-DD&RecallDateEnd=…``
(also ``LastPublishDateStart/End``), with structured Products, Manufacturers, Retailers,
Importers, ProductUPCs, Hazards, Remedies. Its quirks: no pagination (chunk by date window);
unknown or misspelled parameters are ignored silently and the whole corpus (~27 MB) comes back;
errors arrive as HTTP 200 with ``[{"RecallID": 0, "Title": "Error retrieving Recalls…"}]``;
the default format is XML; ``Products.Model``, ``HazardType`` and ``SoldAtLabel`` are always
empty. Its ids (``RecallID``/``RecallNumber``) differ from this feed's uuid, so switching
sources means new record ids.
"""
import re

from w3lib.html import remove_tags, replace_entities

from scrapers.bases import RssSpider, clean
from vn.fold import squash

# Words of CPSC titles for products made for children ("Children's Pajamas", "Infant Bath Seats").
CHILDREN = re.compile(r"\b(?:Child(?:ren)?'?s?|Kids?'?|Infants?'?|Bab(?:y|ies)'?|Toddlers?'?|Toys?)\b", re.I)
GUID_UUID = re.compile(r"/_([0-9a-fA-F-]{36})$")
# CPSC's house style for titles: "<Firm> Recalls <Product> Due to <Hazard>[; <detail>]",
# or "<Product> Recalled [by <Firm>] Due to …; Imported by <Firm> / Manufactured by <Firm>".
FIRM_RECALLS = re.compile(r"^(?P<firm>.+?) Recalls ")
PRODUCT_RECALLS = re.compile(r" Recalls (?:to (?:Repair|Replace) )?(?P<product>.+?) Due to ")
PRODUCT_RECALLED = re.compile(r"^(?P<product>.+?) Recalled (?:by (?P<firm>.+?) )?Due to ")
BY = re.compile(r"; (?:(?P<imported>Imported)|Manufactured|Made) by (?P<name>.+?)(?: and Sold\b| \(|;|$)")


def text(value):
    """Feed text as plain text: HTML tags and entities removed, whitespace collapsed."""
    value = clean(value)
    if value is None:
        return None
    return squash(replace_entities(remove_tags(value))) or None


class UsCpscRecallsSpider(RssSpider):
    name = "us_cpsc_recalls"
    table = "recalls"
    title = "CPSC recalls of consumer products (latest notices, official RSS feed)"
    publisher = "U.S. Consumer Product Safety Commission"
    jurisdiction = "US"
    licence = "Public domain (U.S. government work)"
    live_url = "https://www.cpsc.gov/Newsroom/CPSC-RSS-Feed/Recalls-RSS"
    sample = "us_cpsc_recalls.xml"
    cadence_days = 7   # CPSC announces recalls every week
    complete_listing = False  # the feed shows the latest records only
    fields = {"link": "url"}

    def post_process(self, record, row):
        guid = clean(row.get("guid")) or ""
        found = GUID_UUID.search(guid)
        slug = (record["url"] or "").rstrip("/").rsplit("/", 1)[-1]
        record["source_id"] = found.group(1).lower() if found else (slug or None)
        record["title"] = text(row.get("title"))
        record["hazard"] = text(row.get("description"))
        title = record["title"] or ""
        recalls, recalled = FIRM_RECALLS.search(title), PRODUCT_RECALLED.search(title)
        product = PRODUCT_RECALLS.search(title) or recalled
        by = BY.search(title)
        record["product"] = product and product.group("product")
        record["company"] = ((recalls and recalls.group("firm")) or (recalled and recalled.group("firm"))
                             or (by and by.group("imported") and by.group("name")) or None)
        record["manufacturer"] = by.group("name") if by and not by.group("imported") else None
        record["authority"] = "CPSC"
        # The feed has neither a status nor a category: a title naming children marks a children's product.
        record["status"] = "unknown"
        record["kind"] = "children" if CHILDREN.search(title) else "other"
        record["counterfeit"] = 0
        self.set_gtins(record, record["hazard"], title)
        self.set_date(record, "published", row.get("pubDate"), order="mdy")
        return record
