"""`make fixture` says which sources it can refresh from one GET, and fails in one line for the others."""
import subprocess

from conftest import ROOT
from scrapers import fixture
from scrapers.spiders import all_spiders


def test_supported_sources_are_the_plain_get_ones():
    supported = {s.name for s in all_spiders() if fixture.why_not(s) is None}
    assert supported == {"fr_rappelconso", "gb_fsa_food_alerts", "gb_fsa_prosecutions", "us_cpsc_recalls"}
    reasons = {s.name: fixture.why_not(s) for s in all_spiders()}
    assert reasons["vn_news_recalls"].startswith("no live URL")
    assert reasons["gb_fsa_hygiene_ratings"].startswith("its live format differs")
    assert reasons["us_fda_recalls"].startswith("its live request is not a plain GET")


def test_a_supported_source_prints_its_url(capsys):
    assert fixture.main(["us_cpsc_recalls"]) == 0
    assert capsys.readouterr().out.strip() == "https://www.cpsc.gov/Newsroom/CPSC-RSS-Feed/Recalls-RSS"


def test_an_unsupported_source_fails_in_one_line(capsys):
    assert fixture.main(["vn_news_violations"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "vn_news_violations is not supported" in err
    assert fixture.main(["no_such_source"]) == 1


def test_make_fixture_stops_before_fetching():
    """The Makefile target fails on the reason, and leaves no empty sample behind."""
    # -o: take the installed .venv as it is (the test runs from it).
    result = subprocess.run(["make", "-s", "-o", ".venv/.installed", "fixture", "SOURCE=us_fda_recalls"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "us_fda_recalls is not supported: its live request is not a plain GET" in result.stderr
    assert not (ROOT / "samples" / "us_fda_recalls.new").exists()
