"""plugins/permission_cache.py keeps Datasette's table permission answers: they stay Datasette's."""
import asyncio

import yaml
from datasette.app import Datasette

from conftest import ROOT


def test_a_table_closed_in_metadata_stays_closed_and_others_stay_open(demo_db):
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text())
    metadata["databases"]["minhbach"]["tables"]["runs"]["allow"] = {"id": "maintainer"}
    ds = Datasette(immutables=[str(demo_db)], metadata=metadata, plugins_dir=str(ROOT / "plugins"),
                   template_dir=str(ROOT / "templates"), settings={"suggest_facets": False})
    maintainer = {"ds_actor": ds.sign({"a": {"id": "maintainer"}}, "actor")}

    async def status(path, **kwargs):
        return (await ds.client.get(path, **kwargs)).status_code

    async def go():
        for _ in range(3):       # asked again: the kept answer is the same answer
            assert await status("/minhbach/runs.json") == 403
            assert await status("/minhbach/runs.json", cookies=maintainer) == 200
            assert await status("/minhbach/recalls.json") == 200
        assert ds._table_permission_allows("minhbach", "runs") == [{"id": "maintainer"}]
        assert ds._table_permission_allows("minhbach", "recalls") == []
        # kept, not recomputed (Datasette builds a new list on every call)
        assert ds._table_permission_allows("minhbach", "runs") is ds._table_permission_allows("minhbach", "runs")
    asyncio.run(go())
