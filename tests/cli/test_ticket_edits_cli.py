"""Issue 21 on the command line: edit, delete, merge, link and tag tickets; categories."""

from test_cli import itsm, url  # noqa: F401  (the fixture)


def _create(url, title, *extra):  # noqa: F811
    made = itsm(url, "tickets", "create", "--title", title, "--description", "x", *extra)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def test_ticket_edit_link_merge_tag_and_delete(url):  # noqa: F811
    first, second = _create(url, "Printer jams"), _create(url, "Printer jams too")
    edited = itsm(url, "ticket", "edit", first, "--title", "Printer 3F jams", "--category", "hardware")
    assert edited.returncode == 0, edited.stderr
    assert (
        itsm(url, "ticket", "link", first, "parent", second).stdout.strip() == f"{first} parent of {second}"
    )
    assert "child of" in itsm(url, "ticket", "links", second).stdout
    assert itsm(url, "ticket", "tag", first, "paper", "+3F").stdout.strip() == f"{first}: #3f #paper"
    listed = itsm(url, "tickets", "list", "--filter", "tag:paper", "--format", "csv").stdout
    assert first in listed and second not in listed
    merged = itsm(url, "ticket", "merge", second, first)
    assert merged.returncode == 0 and merged.stdout.startswith(f"Merged into {first}")
    refused = itsm(url, "ticket", "delete", first)  # no terminal: --yes is needed
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert itsm(url, "user", "add", "agent1", "--role", "agent").returncode == 0
    denied = itsm(url, "ticket", "delete", first, "--yes", as_user="agent1")
    assert denied.returncode == 1
    deleted = itsm(url, "ticket", "delete", first, "--yes")
    assert deleted.returncode == 0 and "'Printer 3F jams'" in deleted.stdout, deleted.stderr
    assert itsm(url, "tickets", "list", "--filter", "tag:paper").stdout.strip().endswith("(0 rows)")


def test_category_commands(url):  # noqa: F811
    assert itsm(url, "category", "add", "Printrs").returncode == 0
    assert itsm(url, "category", "rename", "Printrs", "Printers").stdout.strip() == "renamed to Printers"
    _create(url, "Toner", "--category", "Printers")
    assert "1 tickets moved" in itsm(url, "category", "merge", "Printers", "Hardware").stdout
    listing = itsm(url, "category", "list", "--format", "csv").stdout
    assert "Printers,inactive,0" in listing and "Hardware,active,1" in listing
    assert itsm(url, "category", "activate", "Printers").stdout.strip() == "category Printers is active"
    bad = itsm(url, "category", "deactivate", "General")
    assert bad.returncode == 1 and "stays active" in bad.stderr


def test_a_ticket_is_named_by_its_digits_as_in_the_app(url):  # noqa: F811
    """``ticket link 12 parent 15``, as the help shows: 12 means INC000012."""
    first, second = _create(url, "Printer jams"), _create(url, "Toner low")
    bare = [str(int(number[3:])) for number in (first, second)]
    linked = itsm(url, "ticket", "link", bare[0], "parent", bare[1])
    assert linked.stdout.strip() == f"{first} parent of {second}", linked.stderr
    assert "child of" in itsm(url, "ticket", "links", bare[1]).stdout
    assert itsm(url, "ticket", "tag", bare[0], "paper").stdout.strip() == f"{first}: #paper"
    unknown = itsm(url, "ticket", "links", "99999")
    assert unknown.returncode == 1 and "INC099999" in unknown.stderr and "Traceback" not in unknown.stderr
