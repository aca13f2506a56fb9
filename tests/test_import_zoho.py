"""Importing a Zoho CRM export (small fixtures in Zoho's own format: Potentials.csv and Leads.csv)."""

import json

import pytest

from backends import query

POTENTIALS = """Potential Name,Potential Owner,Created Time,Closing Date,Amount,Expected Revenue,Stage,Forecast Type,Type,Lead Source,Probability,Age in Days,Age Tier,Amount Tier,LEADID,Tasks Involved,Events Involved,Calls Involved,Activities Involved,Campaign Id
"Lewis, James",Roger Terrence,"15 Apr, 2021 00:02:00","16 Apr, 2021 00:03:00","$22,700.00","$33,500.00",Needs Analysis,Open,Existing Business,Advertisement,100,1,1. 0 - 60 days,"3. $20,001 - $30K",1832,No,No,No,No,24000023
"Moore, Kevin",David Love,"13 Apr, 2021 00:02:00","15 Apr, 2021 00:03:00","$22,400.00","$24,200.00",Closed Lost,Lost,New Business,Advertisement,80,2,1. 0 - 60 days,"3. $20,001 - $30K",1786,No,No,No,No,24000022
"Strickland, James",Tina Thomas,"10 Apr, 2021 00:02:00","14 Apr, 2021 00:03:00","$26,200.00","$26,200.00",Closed Won,Won,New Business,Cold Call,100,4,1. 0 - 60 days,"3. $20,001 - $30K",1700,No,No,No,No,24000020
"Amy, Joshua",Rozario Diego,"12 Apr, 2021 00:02:00","14 Apr, 2021 00:04:00","$12,100.00","$19,550.00",Prospect,Open,New Business,Employee Referral,25,2,1. 0 - 60 days,"2. $10,001 - $20K",1800,No,No,No,No,24000021
"Smith, David",Pete Zachariah,"11 Apr, 2021 00:02:00","14 Apr, 2021 00:04:00","$9,000.00","$9,000.00",Negotiation/Review,Open,New Business,Web,50,3,1. 0 - 60 days,"1. $0 - $10K",1801,No,No,No,No,24000024
"Smith, David",Pete Zachariah,"11 Apr, 2021 00:02:00","14 Apr, 2021 00:04:00","$9,500.00","$9,000.00",Qualification,Open,New Business,Web,50,3,1. 0 - 60 days,"1. $0 - $10K",1802,No,No,No,No,24000025
"""

LEADS = """LEADID,Last Name,Company,Lead Owner,Email,Mobile,Website,Industry,Lead Source,Lead Status,Created Time,CONVERTED,month_Created Time1
4563,Denson,Maurice The Pants Man,David Love,GaryLDenson@cuvox.de,660-485-0224,CameraUpdate.com,Education,Employee Referral,Contacted,"15 Apr, 2021 00:03:00",Yes,April
4564,Hall,Chargepal,Thomas Mondrake,MaryCHall@armyspy.com,860-253-6354,ForwardShop.com,Pharma,Sales Mail Alias,Junk Lead,"15 Apr, 2021 00:03:00",Yes,April
4568,Fields,All Wound Up,Roger Terrence,RoyCFields@cuvox.de,563-508-6582,MysteryCD.com,Education,Employee Referral,Lost Lead,"15 Apr, 2021 00:03:00",Yes,April
4570,Jones,McDuff,Pete Zachariah,JonesA@jourrapide.com,408-626-3735,TutorParty.com,IT Services,Sales Mail Alias,Pre Qualified,"16 Apr, 2021 00:03:00",No,April
4571,Jones,McDuff,Pete Zachariah,JonesB@jourrapide.com,408-626-3736,TutorParty.com,IT Services,Sales Mail Alias,Pre Qualified,"16 Apr, 2021 00:03:00",No,April
"""

STAGE_MAP = [
    "--stage-map",
    "Prospect=Discovery",
    "--stage-map",
    "Needs Analysis=Qualification",
    "--stage-map",
    "Negotiation/Review=Proposal",
]


@pytest.fixture
def zoho(tmp_path):
    (tmp_path / "Potentials.csv").write_text(POTENTIALS, encoding="utf-8")
    (tmp_path / "Leads.csv").write_text(LEADS, encoding="utf-8")
    return tmp_path


def all_leads(ok) -> list[dict]:
    return json.loads(ok("list", "--status", "all", "-f", "json").stdout)


def test_potentials_need_their_stages_mapped(cli, ok, zoho, snapshot):
    ok("list")
    before = snapshot()
    result = cli("import", zoho / "Potentials.csv")
    assert result.exit_code == 1
    assert "'Needs Analysis' (1 row), 'Negotiation/Review' (1 row), 'Prospect' (1 row)" in result.stderr
    assert snapshot() == before


def test_potentials_with_a_stage_map(ok, zoho, db_location):
    result = ok("import", zoho / "Potentials.csv", *STAGE_MAP)
    assert "6 lead(s) added" in result.stderr
    lewis, moore, strickland, amy, smith, smith_again = all_leads(ok)
    # "Lewis, James" stays as Zoho wrote it; the amount is read from "$22,700.00".
    assert (lewis["name"], lewis["value"], lewis["stage"], lewis["owner"]) == (
        "Lewis, James",
        22700.0,
        "Qualification",
        "Roger Terrence",
    )
    assert lewis["source"] == "Advertisement" and lewis["created_at"].startswith("2021-04-15T00:02:00")
    assert lewis["fields"]["Expected Revenue"] == "$33,500.00" and lewis["fields"]["Closing Date"] == "2021-04-16"
    assert lewis["closed_at"] is None
    # "Closed Lost" is the outcome, not its reason (issue 15).
    assert (moore["status"], moore["lost_reason"], moore["closed_at"][:10]) == ("lost", None, "2021-04-15")
    assert (strickland["status"], strickland["closed_at"][:10]) == ("won", "2021-04-14")
    assert amy["stage"] == "Discovery" and smith["stage"] == "Proposal"
    # Same name, no company: not a duplicate by pipectl's rule (email, or name + company).
    assert smith_again["name"] == "Smith, David"
    kinds = query(db_location, "select kind, count(*) from activities group by kind order by kind")
    assert kinds == [("created", 6), ("lost", 1), ("won", 1)]


def test_metrics_read_imported_history(ok, zoho):
    ok("import", zoho / "Potentials.csv", *STAGE_MAP)
    won = json.loads(ok("list", "--status", "won", "-f", "json").stdout)
    assert [lead["name"] for lead in won] == ["Strickland, James"]


def test_leads_with_last_name_status_words_and_duplicates(cli, ok, zoho):
    result = cli("import", zoho / "Leads.csv")
    assert result.exit_code == 1 and "row 6: same name and company as row 5" in result.stderr
    result = ok("import", zoho / "Leads.csv", "--on-duplicate", "skip")
    assert "4 lead(s) added" in result.stderr and "1 duplicate(s) skipped" in result.stderr
    denson, hall, fields, jones = all_leads(ok)
    assert (denson["name"], denson["company"], denson["email"], denson["phone"]) == (
        "Denson",
        "Maurice The Pants Man",
        "GaryLDenson@cuvox.de",
        "660-485-0224",
    )
    assert denson["status"] == "open" and denson["fields"]["Lead Status"] == "Contacted"
    assert denson["fields"]["LEADID"] == "4563" and denson["industry"] == "Education"
    # A status word is never the lost reason; one that says more than "lost" is kept as a field (issue 15).
    assert (hall["status"], hall["lost_reason"], hall["fields"]["Lead Status"]) == ("lost", None, "Junk Lead")
    assert (fields["status"], fields["lost_reason"], fields["fields"]["Lead Status"]) == ("lost", None, "Lost Lead")
    assert jones["email"] == "JonesA@jourrapide.com"


def test_leads_dry_run_shows_the_mapping(ok, zoho):
    result = ok("import", zoho / "Leads.csv", "--dry-run", "--on-duplicate", "skip")
    for column, field in (
        ("Last Name", "last_name"),
        ("Lead Owner", "owner"),
        ("Mobile", "phone"),
        ("Created Time", "created_at"),
        ("Website", "field:Website"),
    ):
        assert column in result.stdout and field in result.stdout
    assert "Dry run: 4 lead(s) would be added" in result.stderr
