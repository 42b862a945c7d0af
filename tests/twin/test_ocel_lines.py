"""The OCEL export of order lines and shipments: ``item`` and ``package`` objects, their links and events."""

from __future__ import annotations

import json
import shutil

import pytest

from ordercycle.scenarios.loader import load, override
from ordercycle.sim.cli import main
from ordercycle.sim.run import simulate, write_outputs
from ordercycle.sim.twin.logs import read_log
from ordercycle.sim.twin.ocel import read_ocel


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The baseline (one to three lines an order, shipped complete) over 25 days, exported by the CLI."""
    result = simulate(override(load("baseline"), horizon_days=25.0, warmup_days=0.0), seed=2)
    folder = write_outputs(result, tmp_path_factory.mktemp("run"))
    assert main(["export-ocel", str(folder)]) == 0
    return result, folder


@pytest.fixture(scope="module", params=["ocel.json", "ocel.sqlite"])
def read_back(request, exported):
    return read_ocel(exported[1] / request.param)


def _objects(tables, kind):
    return set(tables.objects.loc[tables.objects["ocel_type"] == kind, "ocel_id"])


def _links(tables, qualifier):
    rows = tables.o2o[tables.o2o["ocel_qualifier"] == qualifier]
    return set(zip(rows["ocel_source_id"], rows["ocel_target_id"], strict=True))


def test_one_item_per_line_and_one_package_per_shipment(exported, read_back):
    result, _ = exported
    assert _objects(read_back, "item") == {f"item:{i}" for i in result.lines["line_id"]}
    shipments = result.shipment_lines["shipment_id"].unique()
    assert _objects(read_back, "package") == {f"package:{s}" for s in shipments}
    assert not _objects(read_back, "shipment")
    items = read_back.object_attributes["item"].set_index("ocel_id")
    lines = result.lines.set_index("line_id")
    some = lines.index[:50]
    assert (
        items.loc[[f"item:{i}" for i in some], "product"].tolist() == lines.loc[some, "product_id"].tolist()
    )
    assert (
        items.loc[[f"item:{i}" for i in some], "quantity"].astype(int).tolist()
        == lines.loc[some, "quantity"].tolist()
    )


def test_orders_comprise_their_items_and_packages_contain_theirs(exported, read_back):
    result, _ = exported
    lines, carried = result.lines, result.shipment_lines
    assert _links(read_back, "comprises") == {
        (f"order:{o}", f"item:{i}") for o, i in zip(lines["order_id"], lines["line_id"], strict=True)
    }
    assert _links(read_back, "contains") == {
        (f"package:{s}", f"item:{i}") for s, i in zip(carried["shipment_id"], carried["line_id"], strict=True)
    }
    assert {
        (f"package:{s}", f"order:{o}")
        for s, o in zip(carried["shipment_id"], carried["order_id"], strict=True)
    } <= _links(read_back, "order")
    assert _links(read_back, "is a") == {
        (f"item:{i}", f"product:{p}") for i, p in zip(lines["line_id"], lines["product_id"], strict=True)
    }
    several = carried.groupby("shipment_id").size()
    assert (several > 1).sum() > 20, "the baseline ships orders of several lines in one package"


def _related(tables, event_ids, kind):
    e2o = tables.e2o[tables.e2o["ocel_event_id"].isin(event_ids)]
    return e2o[e2o["ocel_object_id"].str.startswith(kind + ":")]


def test_events_of_a_shipment_relate_to_its_package_and_every_item_it_carries(exported, read_back):
    result, _ = exported
    carried = result.shipment_lines
    several = carried.groupby("shipment_id")["line_id"].apply(set)
    several = several[several.map(len) > 1]
    kind = read_back.events.set_index("ocel_id")["ocel_type"]
    for shipment_id, line_ids in list(several.items())[:20]:
        package = read_back.e2o[read_back.e2o["ocel_object_id"] == f"package:{shipment_id}"]["ocel_event_id"]
        own = package[
            kind.reindex(package)
            .isin(["picking_started", "shipment_dispatched", "shipment_delivered"])
            .to_numpy()
        ]
        assert {"picking_started", "shipment_dispatched"} <= set(kind.reindex(own))
        for event_id in own:
            items = set(_related(read_back, [event_id], "item")["ocel_object_id"])
            assert items == {f"item:{i}" for i in line_ids}, (shipment_id, event_id)


def test_events_of_a_line_relate_to_its_item(exported, read_back):
    """A return of one line of a package relates to that item only (the package carries more)."""
    result, _ = exported
    events = result.events.reset_index(drop=True)
    for activity in (
        "stock_issued",
        "backorder_created",
        "operation_queued",
        "return_requested",
        "refund_paid",
    ):
        logged = events[(events["activity"] == activity) & events["line_id"].notna()]
        assert len(logged) or activity == "backorder_created", activity
        ids = "e" + (logged.index + 1).astype(str)  # event ids are row numbers
        items = _related(read_back, ids, "item").groupby("ocel_event_id")["ocel_object_id"].apply(sorted)
        expected = [["item:" + str(int(line))] for line in logged["line_id"]]
        assert items.reindex(ids).tolist() == expected, activity


def test_the_case_view_reads_packages_and_items(exported):
    _, folder = exported
    log = read_log(folder / "ocel.sqlite")
    shipped = log.activity("shipment_dispatched")
    assert shipped["shipment_id"].str.startswith("package:").all()
    issued = log.activity("stock_issued")
    assert issued["line_id"].notna().all() and issued["line_id"].str.startswith("item:").all()
    assert len(log.events) == len(read_log(folder / "ocel.json").events)


def test_an_export_of_an_earlier_version_still_reads(exported, tmp_path):
    """Exports written before items and packages named shipments ``shipment`` and had no items."""
    _, folder = exported
    document = json.loads((folder / "ocel.json").read_text())
    document["objectTypes"] = [
        t if t["name"] != "package" else {**t, "name": "shipment"}
        for t in document["objectTypes"]
        if t["name"] != "item"
    ]

    def old(ref):
        return ref.replace("package:", "shipment:")

    document["objects"] = [
        {
            **obj,
            "id": old(obj["id"]),
            "type": "shipment" if obj["type"] == "package" else obj["type"],
            "relationships": [
                {
                    **r,
                    "objectId": old(r["objectId"]),
                    "qualifier": r["qualifier"].replace("package", "shipment"),
                }
                for r in obj["relationships"]
                if not r["objectId"].startswith("item:")
            ],
        }
        for obj in document["objects"]
        if obj["type"] != "item"
    ]
    for event in document["events"]:
        event["relationships"] = [
            {**r, "objectId": old(r["objectId"]), "qualifier": r["qualifier"].replace("package", "shipment")}
            for r in event["relationships"]
            if not r["objectId"].startswith("item:")
        ]
    path = tmp_path / "earlier.json"
    path.write_text(json.dumps(document))
    log = read_log(path)
    shipped = log.activity("shipment_dispatched")
    assert len(shipped) and shipped["shipment_id"].str.startswith("shipment:").all()
    assert log.activity("stock_issued")["line_id"].isna().all()


def test_a_run_folder_without_shipment_contents_exports_the_lines_the_log_names(exported, tmp_path):
    result, folder = exported
    older = tmp_path / "older"
    shutil.copytree(folder, older)
    (older / "shipment_lines.parquet").unlink()
    assert main(["export-ocel", str(older), "--out", str(tmp_path / "out")]) == 0
    tables = read_ocel(tmp_path / "out" / "ocel.json")
    one = result.shipment_lines.groupby("shipment_id").filter(lambda rows: len(rows) == 1)
    assert _links(tables, "contains") == {
        (f"package:{s}", f"item:{i}")
        for s, i in zip(one["shipment_id"], one["line_id"], strict=True)
        if f"package:{s}" in _objects(tables, "package")
    }


def test_a_one_line_company_exports_one_item_per_order(tmp_path):
    result = simulate(override(load("around-the-clock"), horizon_days=8.0, warmup_days=0.0), seed=1)
    folder = write_outputs(result, tmp_path / "run")
    assert main(["export-ocel", str(folder)]) == 0
    tables = read_ocel(folder / "ocel.sqlite")
    assert len(_objects(tables, "item")) == len(result.orders)
    package_events = tables.e2o[tables.e2o["ocel_object_id"].str.startswith("package:")]["ocel_event_id"]
    items = _related(tables, package_events, "item").groupby("ocel_event_id").size()
    assert (items.reindex(package_events.unique()) == 1).all()
    log = read_log(folder / "ocel.sqlite")
    assert set(log.cases.index) <= {f"order:{o}" for o in result.orders["order_id"]}
