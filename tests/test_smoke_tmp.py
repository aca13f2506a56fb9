def test_smoke(ok, cli, new_lead, snapshot):
    lead = new_lead("Ada", "--email", "a@x.io")
    before = snapshot()
    result = cli("move", lead, "Nowhere")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: There is no stage")
    assert snapshot() == before
    assert ok("list", "-f", "json").stdout.startswith("[")
