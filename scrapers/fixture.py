"""Which sources `make fixture` can refresh, and the URL to fetch for one of them.

`make fixture SOURCE=x` saves one plain GET of x's `live_url` as x's new sample. That is a usable sample
only when the spider reads exactly that answer; for the other sources this says why, in one line:

    python -m scrapers.fixture                # every source: the URL, or why not
    python -m scrapers.fixture us_cpsc_recalls  # the URL on stdout (exit 0), or the reason on stderr (exit 1)
"""
import sys

from scrapers.bases import SourceSpider
from scrapers.spiders import all_spiders, spider_class


def why_not(spider_cls):
    """None when one GET of live_url gives a sample the spider reads, else the reason in a few words."""
    if not spider_cls.live_url:
        return "no live URL: a curated or received file; refresh its sample from that file"
    if spider_cls.file_only:
        return (f"its live format differs from the file this spider reads ({spider_cls.live_url}); "
                "take the sample from a received file")
    if spider_cls.live_requests is not SourceSpider.live_requests:
        return "its live request is not a plain GET (see live_requests in the spider); save the answer by hand"
    return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or not argv[0]:
        for spider_cls in all_spiders():
            reason = why_not(spider_cls)
            print(f"{spider_cls.name:24} {'no: ' + reason if reason else spider_cls.live_url}")
        print("usage: make fixture SOURCE=<one of the sources with a URL above>", file=sys.stderr)
        return 2
    try:
        spider_cls = spider_class(argv[0])
    except KeyError as error:
        print(f"make fixture: {error.args[0]}", file=sys.stderr)
        return 1
    reason = why_not(spider_cls)
    if reason:
        print(f"make fixture: {spider_cls.name} is not supported: {reason}", file=sys.stderr)
        return 1
    print(spider_cls.live_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
