"""China's 34 provincial-level divisions, and every spelling feeds and IP databases use for them.

Shadowserver writes ``GUANGDONG``, ip2region ``广东省`` or ``广东``; the report prints ``广东``.  The
table is defined once here and joined in bulk (:func:`alias_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    code: str  # ISO 3166-2:CN suffix
    zh: str  # short name, as the report prints it
    en: str
    full_zh: str
    aliases: tuple[str, ...] = ()


REGIONS: tuple[Region, ...] = (
    Region("BJ", "北京", "Beijing", "北京市"),
    Region("TJ", "天津", "Tianjin", "天津市"),
    Region("HE", "河北", "Hebei", "河北省"),
    Region("SX", "山西", "Shanxi", "山西省"),
    Region("NM", "内蒙古", "Inner Mongolia", "内蒙古自治区", ("NEI MONGOL", "NEIMENGGU", "NEI MENGGU")),
    Region("LN", "辽宁", "Liaoning", "辽宁省"),
    Region("JL", "吉林", "Jilin", "吉林省"),
    Region("HL", "黑龙江", "Heilongjiang", "黑龙江省"),
    Region("SH", "上海", "Shanghai", "上海市"),
    Region("JS", "江苏", "Jiangsu", "江苏省"),
    Region("ZJ", "浙江", "Zhejiang", "浙江省"),
    Region("AH", "安徽", "Anhui", "安徽省"),
    Region("FJ", "福建", "Fujian", "福建省"),
    Region("JX", "江西", "Jiangxi", "江西省"),
    Region("SD", "山东", "Shandong", "山东省"),
    Region("HA", "河南", "Henan", "河南省"),
    Region("HB", "湖北", "Hubei", "湖北省"),
    Region("HN", "湖南", "Hunan", "湖南省"),
    Region("GD", "广东", "Guangdong", "广东省"),
    Region("GX", "广西", "Guangxi", "广西壮族自治区", ("GUANGXI ZHUANG", "GUANGXI ZHUANGZU ZIZHIQU")),
    Region("HI", "海南", "Hainan", "海南省"),
    Region("CQ", "重庆", "Chongqing", "重庆市"),
    Region("SC", "四川", "Sichuan", "四川省"),
    Region("GZ", "贵州", "Guizhou", "贵州省"),
    Region("YN", "云南", "Yunnan", "云南省"),
    Region("XZ", "西藏", "Tibet", "西藏自治区", ("XIZANG", "TIBET AUTONOMOUS REGION")),
    Region("SN", "陕西", "Shaanxi", "陕西省"),
    Region("GS", "甘肃", "Gansu", "甘肃省"),
    Region("QH", "青海", "Qinghai", "青海省"),
    Region("NX", "宁夏", "Ningxia", "宁夏回族自治区", ("NINGXIA HUI", "NINGXIA HUIZU ZIZHIQU")),
    Region("XJ", "新疆", "Xinjiang", "新疆维吾尔自治区", ("XINJIANG UYGUR", "XINJIANG UYGHUR", "UYGUR")),
    Region("TW", "台湾", "Taiwan", "台湾省", ()),
    Region("HK", "香港", "Hong Kong", "香港特别行政区", ()),
    Region("MO", "澳门", "Macao", "澳门特别行政区", ("MACAU",)),
)

BY_CODE = {r.code: r for r in REGIONS}

# Numeric ISO 3166-2:CN / GB 2260 prefixes some feeds use (CN-44 is Guangdong).
_GB_CODES = {
    "11": "BJ",
    "12": "TJ",
    "13": "HE",
    "14": "SX",
    "15": "NM",
    "21": "LN",
    "22": "JL",
    "23": "HL",
    "31": "SH",
    "32": "JS",
    "33": "ZJ",
    "34": "AH",
    "35": "FJ",
    "36": "JX",
    "37": "SD",
    "41": "HA",
    "42": "HB",
    "43": "HN",
    "44": "GD",
    "45": "GX",
    "46": "HI",
    "50": "CQ",
    "51": "SC",
    "52": "GZ",
    "53": "YN",
    "54": "XZ",
    "61": "SN",
    "62": "GS",
    "63": "QH",
    "64": "NX",
    "65": "XJ",
    "71": "TW",
    "81": "HK",
    "82": "MO",
}

# Divisions that are separate ISO countries: with country CN they count as foreign (DESIGN.md §4).
SEPARATE_COUNTRIES = {"TW": "TW", "HK": "HK", "MO": "MO"}


def _spellings(region: Region) -> set[str]:
    names = {region.zh, region.full_zh, region.en, region.code, f"CN-{region.code}", *region.aliases}
    names.add(region.en.replace(" ", ""))
    for suffix in ("省", "市", "自治区", "特别行政区"):
        if region.full_zh.endswith(suffix):
            names.add(region.full_zh)
    for suffix in (" SHENG", " SHI", " PROVINCE", " SHENG PROVINCE", " MUNICIPALITY"):
        names.add(region.en + suffix)
    return {n.upper() for n in names}


def alias_rows() -> list[tuple[str, str]]:
    """``(spelling in upper case, code)`` for every known spelling of every division."""
    rows = {(name, r.code) for r in REGIONS for name in _spellings(r)}
    rows |= {(f"CN-{num}", code) for num, code in _GB_CODES.items()}
    rows |= {(num, code) for num, code in _GB_CODES.items()}
    return sorted(rows)


def name(code: str | None, lang: str = "zh") -> str:
    """The printed name of a division code (``GD`` → 广东 / Guangdong); unknown codes print as given."""
    if code is None:
        return "未知" if lang == "zh" else "unknown"
    region = BY_CODE.get(code)
    if region is None:
        return code
    return region.zh if lang == "zh" else region.en
