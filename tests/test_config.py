"""The workspace and ``sitrep.toml``: defaults, init, validation errors that name the key, home resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitrep.config import (
    CONFIG_NAME,
    HOME_ENV,
    ConfigError,
    Settings,
    Workspace,
    load_workspace,
    resolve_home,
    with_engine,
)
from sitrep.workspace import init_workspace


def _write(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / CONFIG_NAME
    path.write_text(text, encoding="utf-8")
    return path


def _error(root: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_workspace(root)
    return str(info.value)


def test_defaults_match_the_documented_values() -> None:
    s = Settings()
    assert s.organisation.name == "CNCERT"
    assert s.organisation.name_en == "CNCERT/CC"
    assert s.organisation.constituency == "我国"
    assert s.organisation.country == "CN"
    assert s.organisation.timezone == "Asia/Shanghai"
    assert s.enrichment.country_tlds == ["cn", "中国"]
    assert s.enrichment.gov_suffixes == ["gov.cn"]
    assert s.enrichment.constituency_networks == []
    assert "icbc.com.cn" in s.enrichment.protected_sites
    assert "支付宝" in s.enrichment.protected_brands
    assert s.storage.lake == "lake"
    assert s.storage.database_url == "sqlite:///sitrep.db"
    assert s.storage.reports == "reports"
    assert s.ingest.memory_limit == "1GB"
    assert s.ingest.threads == 2


def test_domain_lists_are_normalised() -> None:
    s = Settings.model_validate(
        {"enrichment": {"gov_suffixes": [" .GOV.CN. ", ""], "country_tlds": ["CN"], "protected_sites": ["JD.com"]}}
    )
    assert s.enrichment.gov_suffixes == ["gov.cn"]
    assert s.enrichment.country_tlds == ["cn"]
    assert s.enrichment.protected_sites == ["jd.com"]


def test_fixture_workspace_loads(workspace: Workspace) -> None:
    again = load_workspace(workspace.root)
    assert again.root == workspace.root
    assert again.settings == workspace.settings


def test_missing_workspace(tmp_path: Path) -> None:
    message = _error(tmp_path / "nowhere")
    assert "no workspace at" in message
    assert "sitrep init" in message
    assert HOME_ENV in message


def test_invalid_toml(tmp_path: Path) -> None:
    path = _write(tmp_path, "[organisation\nname = 1\n")
    message = _error(tmp_path)
    assert str(path) in message
    assert "not valid TOML" in message


def test_unknown_key_is_named(tmp_path: Path) -> None:
    _write(tmp_path, '[ingest]\nmemory = "2GB"\n')
    message = _error(tmp_path)
    assert "ingest.memory: unknown key" in message


def test_bad_time_zone_is_named(tmp_path: Path) -> None:
    _write(tmp_path, '[organisation]\ntimezone = "Asia/Beijing"\n')
    message = _error(tmp_path)
    assert "organisation.timezone" in message
    assert "unknown time zone 'Asia/Beijing'" in message


@pytest.mark.parametrize("country", ["cn", "CHN", "C1", ""])
def test_bad_country_is_named(tmp_path: Path, country: str) -> None:
    _write(tmp_path, f'[organisation]\ncountry = "{country}"\n')
    assert "organisation.country" in _error(tmp_path)


def test_bad_cidr_is_named(tmp_path: Path) -> None:
    _write(tmp_path, '[enrichment]\nconstituency_networks = ["10.0.0.0/8", "10.0.0.0/33"]\n')
    message = _error(tmp_path)
    assert "enrichment.constituency_networks" in message
    assert "'10.0.0.0/33' is not an IP network in CIDR form" in message


def test_good_networks_and_types_are_accepted(tmp_path: Path) -> None:
    _write(tmp_path, '[enrichment]\nconstituency_networks = ["192.0.2.0/24", "2001:db8::/32"]\n[ingest]\nthreads = 8\n')
    ws = load_workspace(tmp_path)
    assert ws.settings.enrichment.constituency_networks == ["192.0.2.0/24", "2001:db8::/32"]
    assert ws.settings.ingest.threads == 8


@pytest.mark.parametrize("threads", [0, 257])
def test_threads_out_of_range(tmp_path: Path, threads: int) -> None:
    _write(tmp_path, f"[ingest]\nthreads = {threads}\n")
    assert "ingest.threads" in _error(tmp_path)


def test_every_error_is_listed(tmp_path: Path) -> None:
    _write(tmp_path, '[organisation]\ncountry = "x"\ntimezone = "Nowhere/City"\n[storage]\nlakes = "x"\n')
    message = _error(tmp_path)
    for key in ("organisation.country", "organisation.timezone", "storage.lakes"):
        assert key in message


def test_home_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_home = tmp_path / "from-env"
    explicit = tmp_path / "explicit"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(HOME_ENV, raising=False)
    assert resolve_home() == tmp_path.resolve()
    monkeypatch.setenv(HOME_ENV, str(env_home))
    assert resolve_home() == env_home.resolve()
    assert resolve_home(explicit) == explicit.resolve()  # --home wins over SITREP_HOME
    monkeypatch.setenv(HOME_ENV, "~/somewhere")
    assert resolve_home() == (Path.home() / "somewhere").resolve()


def test_load_uses_sitrep_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = init_workspace(tmp_path / "ws")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(HOME_ENV, str(ws.root))
    assert load_workspace().root == ws.root


def test_relative_paths_are_inside_the_workspace(tmp_path: Path) -> None:
    _write(tmp_path, '[storage]\nlake = "data/events"\nreports = "out"\n')
    ws = load_workspace(tmp_path)
    assert ws.lake_dir == tmp_path.resolve() / "data" / "events"
    assert ws.reports_dir == tmp_path.resolve() / "out"
    assert ws.database_url == f"sqlite:///{tmp_path.resolve()}/sitrep.db"


@pytest.mark.parametrize(
    "url",
    ["sqlite:////var/lib/sitrep/db.sqlite", "sqlite:///:memory:", "postgresql+psycopg://u@db:5432/sitrep"],
)
def test_absolute_and_other_database_urls_are_kept(tmp_path: Path, url: str) -> None:
    _write(tmp_path, f'[storage]\ndatabase_url = "{url}"\n')
    assert load_workspace(tmp_path).database_url == url


def test_timezone_property(tmp_path: Path) -> None:
    _write(tmp_path, '[organisation]\ntimezone = "Europe/Berlin"\n')
    assert str(load_workspace(tmp_path).timezone) == "Europe/Berlin"


def test_the_query_engine_defaults_to_duckdb_with_a_local_spark_ready() -> None:
    query = Settings().query
    assert query.engine == "duckdb"
    assert query.spark.master == "local[2]"
    assert query.spark.options == {}


def test_spark_settings_are_read(tmp_path: Path) -> None:
    _write(
        tmp_path,
        '[query]\nengine = "spark"\n[query.spark]\nmaster = "spark://10.0.0.5:7077"\n'
        '[query.spark.options]\n"spark.executor.memory" = "8g"\n"spark.executor.cores" = 4\n',
    )
    query = load_workspace(tmp_path).settings.query
    assert query.engine == "spark"
    assert query.spark.master == "spark://10.0.0.5:7077"
    assert query.spark.options == {"spark.executor.memory": "8g", "spark.executor.cores": 4}


@pytest.mark.parametrize(
    ("text", "key", "named"),
    [
        ('[query]\nengine = "postgres"\n', "query.engine", "'duckdb' or 'spark'"),
        ('[query.spark]\nmaster = "local[two]"\n', "query.spark.master", "'local[two]' is not a Spark master URL"),
        ('[query.spark.options]\n"executor.memory" = "8g"\n', "query.spark.options", "'executor.memory'"),
    ],
)
def test_bad_engine_settings_are_named(tmp_path: Path, text: str, key: str, named: str) -> None:
    _write(tmp_path, text)
    message = _error(tmp_path)
    assert key in message and named in message


def test_with_engine_changes_only_the_engine(tmp_path: Path) -> None:
    workspace = init_workspace(tmp_path / "ws")
    on_spark = with_engine(workspace, "spark")
    assert on_spark.settings.query.engine == "spark" and workspace.settings.query.engine == "duckdb"
    assert on_spark.settings.query.memory_limit == workspace.settings.query.memory_limit
    assert on_spark.root == workspace.root
    assert with_engine(workspace, None) is workspace
    with pytest.raises(ConfigError, match="unknown query engine 'sql'"):
        with_engine(workspace, "sql")
