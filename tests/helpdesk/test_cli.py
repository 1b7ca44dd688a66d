"""flask commands: agents, stores, CSV import, figures."""
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpdesk.config import ConfigError, from_environment
from helpdesk.extensions import db
from helpdesk.models import Agent, Order, Store

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_create_agent_hashes_the_password(runner):
    result = runner.invoke(args=["agents", "create", "--email", "Li@Example.com", "--name", "Li Wei", "--role", "manager",
                                 "--time-zone", "Asia/Shanghai", "--languages", "zh-Hans,en", "--max-chats", "8",
                                 "--password", "s3cret-pass"])
    assert result.exit_code == 0, result.output
    agent = db.session.scalar(select(Agent))
    assert (agent.email, agent.role, agent.time_zone, agent.languages, agent.max_chats) == (
        "li@example.com", "manager", "Asia/Shanghai", ["zh-Hans", "en"], 8)
    assert "s3cret-pass" not in agent.password_hash and agent.check_password("s3cret-pass")


@pytest.mark.parametrize("args, message", [
    (["--time-zone", "Mars/Olympus"], "'Mars/Olympus' is not an IANA time zone"),
    (["--password", "short"], "use at least 8 printable characters"),
    (["--password", "long-enough\x00"], "use at least 8 printable characters"),
    (["--role", "boss"], "'boss' is not one of"),
    (["--locale", "xx_YY"], "'xx_YY' is not a locale such as en, de or pt_BR."),
    (["--languages", "klingon,,<b>"], "is not a BCP 47 language tag"),
    (["--email", "not-an-email"], "'not-an-email' is not an e-mail address"),
    (["--name", "   "], "The name must not be empty."),
    (["--max-chats", "0"], "0 is not in the range 1<=x<=50"),
])
def test_bad_agent_input_is_refused(runner, args, message):
    base = ["agents", "create", "--email", "a@b.example", "--name", "A"]
    base = [a for i, a in enumerate(base) if not (a in args or (i and base[i - 1] in args))]
    if "--password" not in args:
        args = args + ["--password", "long-enough-1"]
    result = runner.invoke(args=base + args)
    assert result.exit_code == 2
    assert message in result.output
    assert db.session.scalar(select(func.count()).select_from(Agent)) == 0


def test_stores_add_validates_and_refuses_duplicates(runner):
    ok = runner.invoke(args=["stores", "add", "--kind", "csv", "--name", "Archive", "--currency", "jpy"])
    assert ok.exit_code == 0, ok.output
    assert db.session.scalar(select(Store.default_currency)) == "JPY"
    dup = runner.invoke(args=["stores", "add", "--kind", "csv", "--name", "Archive"])
    assert dup.exit_code == 1 and "A store named 'Archive' already exists." in dup.output
    bad = runner.invoke(args=["stores", "add", "--kind", "csv", "--name", "X", "--currency", "EURO"])
    assert bad.exit_code == 2 and "Unknown currency code 'EURO'" in bad.output
    no_url = runner.invoke(args=["stores", "add", "--kind", "shopify", "--name", "S"])
    assert no_url.exit_code == 2 and "a shopify store needs its API root" in no_url.output
    for extra, message in [
        (["--kind", "shopify", "--name", "S", "--base-url", "ftp://x"], "'ftp://x' is not an http(s) address"),
        (["--kind", "shopify", "--name", "S", "--base-url", "https://s.example", "--credentials-ref", "shpat_123"],
         "must look like env:VARIABLE_NAME"),
        (["--kind", "csv", "--name", "  "], "The store name must not be empty."),
        (["--kind", "csv", "--name", "x" * 201], "at most 200 characters"),
        (["--kind", "amazon", "--name", "A"], "'amazon' is not one of"),
    ]:
        result = runner.invoke(args=["stores", "add", *extra])
        assert result.exit_code == 2 and message in result.output, result.output
    assert db.session.scalar(select(func.count()).select_from(Store)) == 1


def test_import_csv_and_stats(runner, tmp_path: Path):
    runner.invoke(args=["stores", "add", "--kind", "csv", "--name", "Archive", "--currency", "GBP",
                        "--time-zone", "Europe/London"])
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "1,A,Mug,2,2011-01-01 10:00:00,1.50,17.0,Germany\n"
                    + "2,A,Mug,1,2011-01-01 11:00:00,1.50,18.0,EIRE\n"
                    + "C3,A,Mug,-1,2011-01-02 11:00:00,1.50,18.0,EIRE\n")
    result = runner.invoke(args=["orders", "import-csv", "Archive", str(good)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"created": 2, "updated": 0, "skipped": 0, "failed": 0}
    stats = runner.invoke(args=["orders", "stats"])
    assert json.loads(stats.stdout) == {"stores": 1, "orders": 2, "buyers": 2, "countries": 2, "refunds": 1}


def test_import_errors_are_clear_and_change_nothing(runner, tmp_path: Path):
    missing = runner.invoke(args=["orders", "import-csv", "Nope", str(tmp_path / "x.csv")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    bad = tmp_path / "bad.csv"
    bad.write_text("order,sku\n1,2\n")
    runner.invoke(args=["stores", "add", "--kind", "csv", "--name", "Archive"])
    unknown = runner.invoke(args=["orders", "import-csv", "Elsewhere", str(bad)])
    store_id = db.session.scalar(select(Store.id))
    assert unknown.exit_code == 1 and f"Unknown store 'Elsewhere'. Stores: {store_id}=Archive." in unknown.output
    wrong = runner.invoke(args=["orders", "import-csv", "Archive", str(bad)])
    assert wrong.exit_code == 1 and "bad.csv is not in the Online Retail layout" in wrong.output
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_csv_goes_only_into_csv_stores(runner, tmp_path: Path):
    runner.invoke(args=["stores", "add", "--kind", "shopify", "--name", "Shop", "--base-url", "https://s.example"])
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "1,A,Mug,2,2011-01-01 10:00:00,1.50,17.0,Germany\n")
    result = runner.invoke(args=["orders", "import-csv", "Shop", str(good)])
    assert result.exit_code == 1 and "is a shopify store, filled by `flask orders sync`" in result.output
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_sync_of_a_csv_store_explains_itself(runner):
    runner.invoke(args=["stores", "add", "--kind", "csv", "--name", "Archive"])
    result = runner.invoke(args=["orders", "sync", "Archive"])
    assert result.exit_code == 1
    assert "is a csv store: fill it with `flask orders import-csv`" in result.output


def test_production_refuses_the_demo_secret(tmp_path):
    with pytest.raises(ConfigError, match="needs SECRET_KEY"):
        from_environment(str(tmp_path), {"HELPDESK_ENV": "production"})
    with pytest.raises(ConfigError):
        from_environment(str(tmp_path), {"HELPDESK_ENV": "production", "SECRET_KEY": "dev-only-not-secret"})
    with pytest.raises(ConfigError, match="at least 32 characters"):
        from_environment(str(tmp_path), {"HELPDESK_ENV": "production", "SECRET_KEY": "short"})
    with pytest.raises(ConfigError, match="HELPDESK_ENV='prod' is not one of development, production"):
        from_environment(str(tmp_path), {"HELPDESK_ENV": "prod"})
    config = from_environment(str(tmp_path), {"HELPDESK_ENV": "production", "SECRET_KEY": "x" * 64,
                                              "DATABASE_URL": "postgres://u@db/helpdesk"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/helpdesk"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert from_environment(str(tmp_path), {})["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/helpdesk.sqlite3"
