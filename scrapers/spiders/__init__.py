"""One small spider per source. File name == spider name == sample stem == test stem."""
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings


def _loader():
    return SpiderLoader.from_settings(get_project_settings())


def all_spiders():
    loader = _loader()
    return [loader.load(name) for name in sorted(loader.list())]


def spider_class(name):
    try:
        return _loader().load(name)
    except KeyError:
        raise KeyError(f"no spider named {name!r}; known: {', '.join(sorted(_loader().list()))}") from None
