"""``itsm-tui team`` and ``itsm-tui macro`` as a user runs them (issue 21)."""

from test_cli import itsm, url  # noqa: F401 - the fixture


def test_team_and_macro_commands(url, people):  # noqa: F811
    assert itsm(url, "team", "add", "Network").returncode == 0
    assert itsm(url, "team", "member", "add", "network", "agent").returncode == 0
    listed = itsm(url, "team", "list", "--format", "csv")
    assert listed.stdout.splitlines()[1] == "Network,off,agent"
    refused = itsm(url, "team", "add", "Other", as_user="agent")
    assert refused.returncode == 1 and "may not create and rename teams" in refused.stderr
    created = itsm(url, "tickets", "create", "--title", "VPN", "--description", "down", as_user="requester")
    number = created.stdout.strip()  # tickets create prints the new number
    added = itsm(
        url,
        "macro",
        "add",
        "Wait",
        "--body",
        "Hi {requester_first}",
        "--status",
        "waiting_on_user",
        "--team",
        "Network",
        as_user="supervisor",
    )
    assert added.returncode == 0, added.stderr
    applied = itsm(url, "macro", "apply", "wait", number, "INC999999", as_user="agent")
    assert applied.returncode == 1  # one of them failed, said per ticket
    assert (
        f"{number}: Wait applied" in applied.stdout
        and "INC999999: ticket INC999999 does not exist" in applied.stdout
    )
    shown = itsm(url, "tickets", "list", "--filter", "team:network status:waiting_on_user", "--format", "csv")
    assert number in shown.stdout
