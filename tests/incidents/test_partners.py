"""The partner directory: import with rejects, and routing by AS, suffix, region and country."""

from __future__ import annotations

from sitrep.incidents.db import session_scope
from sitrep.incidents.partners import import_partners, list_partners, route
from sitrep.taxonomy import PartnerType

from .conftest import DATA


def _load(ws):
    with session_scope(ws) as session:
        return import_partners(session, DATA / "partners.csv", actor="t")


def test_import_partners_rejects_bad_rows_and_upserts_by_name(ws):
    report = _load(ws)
    assert report.created == 6
    assert [(r.line, r.reason.split(";")[0]) for r in report.rejects] == [
        (7, "unknown partner type 'space-agency'"),
        (8, "e-mail 'not-an-address' is not an address"),
    ]
    again = _load(ws)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    with session_scope(ws) as session:
        partners = list_partners(session)
        assert [p.type for p in partners] == [
            "cloud",
            "registrar",
            "app-store",
            "branch",
            "foreign-cert",
            "hosting",
        ]
        aliyun = partners[0]
        assert aliyun.asns == [37963, 45102] and aliyun.suffixes == ["aliyuncs.com", "alibabacloud.com"]
        assert partners[4].language == "en"


def test_routing_prefers_the_type_order_then_the_most_specific_rule(ws):
    _load(ws)
    with session_scope(ws) as session:
        partners = list_partners(session)
        hit = route(partners, [PartnerType.REGISTRAR, PartnerType.CLOUD], host="phish.example.cn")
        assert hit is not None and hit.partner.name == "万网" and hit.rule == "registrar by suffix .cn"
        hit = route(partners, [PartnerType.HOSTING, PartnerType.CLOUD], host="x.example.com", asn=37963)
        assert hit.partner.name == "阿里云" and "AS37963" in hit.rule
        hit = route(partners, [PartnerType.HOSTING], host="evil.workers.dev")
        assert hit.partner.name == "Cloudflare"
        hit = route(partners, [PartnerType.BRANCH], host="www.sz.gov.cn", region="gd")
        assert hit.partner.name == "广东分中心" and hit.rule == "branch by region GD"
        hit = route(partners, [PartnerType.APP_STORE], host="a.dbankcdn.com")
        assert hit.partner.name == "华为应用市场"
        hit = route(partners, [PartnerType.REGISTRAR, PartnerType.FOREIGN_CERT], host="x.example.jp", country="JP")
        assert hit.partner.name == "JPCERT/CC" and hit.rule == "foreign-cert by country JP"
        assert route(partners, [PartnerType.BRANCH], host="x.example.com", region="ZJ") is None
