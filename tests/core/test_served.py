"""The file rules of the served mode (core.files) and of one's own machine, and the dialogs
that use them: every path a dialog reads or writes is checked, refused with a message, and a
refusal leaves nothing behind. Exports and saved attachments are 0600 in every mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from itsm_tui.core import config, files


@pytest.fixture
def data(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv("ITSM_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def served(data):
    config.override_settings(config.Settings(mode="served"))
    yield data
    config.override_settings(None)


@pytest.fixture
def local(data):
    config.override_settings(config.Settings(mode="local"))
    yield data
    config.override_settings(None)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_served_folders_are_private_and_a_plain_name_lands_in_them(served):
    path = files.target("report.csv", "agent1")
    assert path == served / "exports" / "agent1" / "report.csv"
    files.write_private(path, b"x", overwrite=False)
    assert mode(served / "exports" / "agent1") == 0o700
    assert mode(served / "exports") == 0o700
    assert mode(path) == 0o600
    (files.own_folder("uploads", "agent1") / "in.txt").write_bytes(b"y")
    assert files.source("in.txt", "agent1") == served / "uploads" / "agent1" / "in.txt"
    assert mode(served / "uploads" / "agent1") == 0o700


@pytest.mark.parametrize(
    "typed",
    ["/proc/self/cmdline", "../../x", "/etc/passwd", "~/.bashrc", "../agent2/in.txt", ".hidden", "sub/../.x"],
)
def test_served_reading_outside_the_uploads_folder_is_refused(served, typed):
    other = files.own_folder("uploads", "agent2")
    (other / "in.txt").write_bytes(b"secret of agent2")
    (files.own_folder("uploads", "agent1") / ".hidden").write_bytes(b"x")
    with pytest.raises(files.PathRefused) as refused:
        files.source(typed, "agent1")
    assert "not allowed" in str(refused.value) or "outside your folder" in str(refused.value)


@pytest.mark.parametrize(
    "typed", ["/tmp/x", "~/.bashrc", "../../x", ".bashrc", "../uploads/x", str(Path.home() / ".bashrc")]
)
def test_served_writing_outside_the_exports_folder_is_refused(served, typed):
    before = set(served.rglob("*"))
    with pytest.raises(files.PathRefused):
        files.target(typed, "agent1")
    assert all(p.is_dir() for p in set(served.rglob("*")) - before)  # only the own folder


def test_served_links_out_of_the_folder_are_refused_for_reading_and_writing(served, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours")
    uploads = files.own_folder("uploads", "agent1")
    exports = files.own_folder("exports", "agent1")
    (uploads / "link.txt").symlink_to(outside)
    (exports / "out.csv").symlink_to(outside)
    (exports / "inside").symlink_to(exports / "real.csv")
    (exports / "real.csv").write_text("x")
    with pytest.raises(files.PathRefused):
        files.source("link.txt", "agent1")
    with pytest.raises(files.PathRefused):
        files.target("out.csv", "agent1", overwrite=True)
    with pytest.raises(files.PathRefused):
        files.target("inside", "agent1", overwrite=True)
    assert outside.read_text() == "not yours"


def test_a_link_planted_after_the_check_is_replaced_never_followed(local, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    path = tmp_path / "export.csv"
    path.symlink_to(victim)
    with pytest.raises(files.FileExists):
        files.write_private(path, b"new", overwrite=False)
    assert (
        victim.read_text() == "keep" and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    )
    files.write_private(path, b"new", overwrite=True)
    assert victim.read_text() == "keep" and not path.is_symlink() and path.read_bytes() == b"new"


def test_reading_does_not_follow_a_link_to_a_special_file(local, tmp_path):
    link = tmp_path / "cmd"
    link.symlink_to("/proc/self/cmdline")
    with pytest.raises(files.PathRefused):
        files.read_limited(link, 1024)


def test_a_device_or_a_pipe_is_never_replaced_by_an_export(local, tmp_path):
    """Writing goes through a file renamed into place: '-o /dev/null' as root once turned the
    machine's /dev/null into a plain file."""
    device = tmp_path / "null"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "to-null"
    link.symlink_to(device)
    for special in (device, fifo, link):
        with pytest.raises(files.PathRefused, match="not a regular file"):
            files.target(str(special), "agent1", overwrite=True)
    assert stat.S_ISCHR(os.lstat(device).st_mode) and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_local_paths_are_free_but_never_a_dot_file_nor_a_silent_overwrite(local, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".bashrc").write_text("# mine")
    for typed in ("~/.bashrc", str(tmp_path / ".profile"), "~/.ssh/authorized_keys"):
        with pytest.raises(files.PathRefused) as refused:
            files.target(typed, "")
        assert "dot-file" in str(refused.value) or "does not exist" in str(refused.value)
    (tmp_path / "alias.csv").symlink_to(tmp_path / ".bashrc")
    with pytest.raises(files.PathRefused):
        files.target("~/alias.csv", "", overwrite=True)
    (tmp_path / "old.csv").write_text("keep")
    with pytest.raises(files.FileExists):
        files.target("~/old.csv", "")
    assert files.target("~/old.csv", "", overwrite=True) == tmp_path / "old.csv"
    assert files.target("/tmp/fine.csv", "") == Path("/tmp/fine.csv")
    assert (tmp_path / ".bashrc").read_text() == "# mine"


def test_a_dot_folder_of_the_home_folder_is_never_written_into(local, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for folder in (".ssh", ".config/autostart"):
        (tmp_path / folder).mkdir(parents=True)
    for typed in ("~/.ssh/authorized_keys", "~/.config/autostart/export.desktop", str(tmp_path / ".ssh/x")):
        with pytest.raises(files.PathRefused, match="dot-file"):
            files.target(typed, "")
    (tmp_path / "keys").symlink_to(tmp_path / ".ssh")  # nor through a link to one
    with pytest.raises(files.PathRefused, match="dot-file"):
        files.target("~/keys/authorized_keys", "")
    assert files.target("~/report.csv", "") == tmp_path / "report.csv"


@pytest.mark.parametrize("kind", ["served", "local"])
def test_a_name_no_file_can_have_is_refused_in_words(kind, data, tmp_path):
    """A NUL, or a name over 255 bytes (less the temporary name's room when writing), is a
    refusal the dialog shows, never an OSError or a ValueError out of the app; an attachment's
    long name is cut, its extension kept, to one that can be written."""
    config.override_settings(config.Settings(mode=kind))
    try:
        base = files.start_folder(files.EXPORTS, "agent1") if kind == "served" else tmp_path
        long_name = "打印机卡纸" * 23 + ".pdf"  # 115 characters, 349 bytes
        for typed in ("a\x00b.pdf", "x" * 300 + ".pdf", long_name, "x" * 241):
            with pytest.raises(files.PathRefused):
                files.target(typed, "agent1", base=base)
            with pytest.raises(files.PathRefused):
                files.source(typed, "agent1", base=base)
        fitted = files.fitting_name(long_name)
        assert fitted.endswith(".pdf") and long_name.startswith(fitted[:-4])
        assert len(fitted.encode()) <= 240 and files.fitting_name("log.txt") == "log.txt"
        path = files.target(fitted, "agent1", base=base)
        files.write_private(path, b"kept", overwrite=False)
        assert path.read_bytes() == b"kept" and path.name == fitted
    finally:
        config.override_settings(None)


def test_exports_are_written_0600_in_every_mode(local, tmp_path, people):
    from itsm_tui.reports import export

    done = export.export_list(people["admin"], export.ListJob("tickets", "csv", str(tmp_path / "t.csv")))
    assert mode(Path(done.path)) == 0o600
    with pytest.raises(files.PathRefused):
        export.export_list(people["admin"], export.ListJob("tickets", "csv", str(tmp_path / ".bashrc")))
    assert not (tmp_path / ".bashrc").exists()


def test_my_exports_lists_and_deletes_only_own_plain_files(served):
    exports = files.own_folder("exports", "agent1")
    files.write_private(exports / "a.csv", b"abc", overwrite=False)
    (exports / ".a.csv.x.part").write_bytes(b"in progress")
    (files.own_folder("exports", "agent2") / "b.csv").write_bytes(b"x")
    assert [(e.name, e.size) for e in files.listing("exports", "agent1")] == [("a.csv", 3)]
    for name in ("../agent2/b.csv", ".a.csv.x.part", "missing.csv"):
        with pytest.raises(files.PathRefused):
            files.delete("exports", "agent1", name)
    files.delete("exports", "agent1", "a.csv")
    assert files.listing("exports", "agent1") == []
    assert (served / "exports" / "agent2" / "b.csv").exists()


def test_url_passwords_are_masked_in_crash_reports():
    from itsm_tui.ui import crash

    assert (
        crash.mask("cannot reach mysql://desk:p%40ss#x@db:3306/itsm now")
        == "cannot reach mysql://desk:***@db:3306/itsm now"
    )
    assert crash.mask("mysql://desk:p@ss@db/itsm") == "mysql://desk:***@db/itsm"
    assert crash.mask("plain text with s3cret", ("s3cret",)) == "plain text with ***"
