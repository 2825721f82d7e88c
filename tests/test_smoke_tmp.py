from itsm_tui.core import tickets, queue

def test_smoke(people):
    t = tickets.create(people["requester"], "Printer 🖨 王伟 مرحبا", "desc")
    t2 = tickets.assign(people["agent"], t.id, t.version, people["agent"])
    assert t2.version == 2
    assert queue.count(people["agent"], "status:open") == 1
    p = queue.page(people["agent"], "status:open assignee:me", queue.Sort("priority", False))
    assert p.rows[0]["title"] == "Printer 🖨 王伟 مرحبا"
