"""The control-character filter removes sequences whole and never the text around them."""

import pytest

from itsm_tui.core.text import clean, strip_controls


@pytest.mark.parametrize(
    "raw,multi,single",
    [
        # OSC left open: it ends at the newline at the latest; the next line survives.
        (
            "Printer broken \x1b]8;;see below\nline 2 important details",
            "Printer broken \nline 2 important details",
            "Printer broken  line 2 important details",
        ),
        ("a\x1b]0;title\rb", "a\nb", "a b"),
        ("a\x9d0;title\nb", "a\nb", "a b"),
        # OSC ended by BEL, by ESC \ and by C1 ST: the payload goes, the text after stays.
        ("a\x1b]8;;http://x\x07link\x1b]8;;\x1b\\ b", "alink b", "alink b"),
        ("a\x9d8;;http://evil\x9cb", "ab", "ab"),
        # DCS, SOS, PM, APC (ESC and C1 forms) are control strings like OSC.
        ("x\x1bPq#0;2;0;0;0\x1b\\y", "xy", "xy"),
        ("x\x1bPopen dcs\nnext line", "x\nnext line", "x next line"),
        ("x\x90payload\x9cy", "xy", "xy"),
        ("x\x1b_apc\x07y \x1b^pm\x07z \x1bXsos\x1b\\w", "xy z w", "xy z w"),
        ("x\x9fapc\nkept", "x\nkept", "x kept"),
        # CSI: whole, in its ESC and C1 forms; a CSI cut by a line break takes nothing after it.
        ("\x1b[1;31mred\x1b[0m", "red", "red"),
        ("a\x9b2Jb", "ab", "ab"),
        ("a\x1b[12\nnext", "a[12\nnext", "a[12 next"),
        # nF (charset designation) and two-byte sequences.
        ("a\x1b(Bb\x1bMc", "abc", "abc"),
        # Lone C0/C1 controls and bidi overrides/isolates go; the letters around them stay.
        ("Ton\x07er\x00\x85 \u202eevil\u2066x\u2069", "Toner evilx", "Toner evilx"),
    ],
)
def test_sequences_go_and_the_text_around_them_stays(raw, multi, single):
    assert strip_controls(raw, multiline=True) == multi
    assert strip_controls(raw) == single


def test_single_line_text_keeps_its_words_apart():
    assert strip_controls("first\r\nsecond\nthird\rfourth\tfifth") == "first second third fourth fifth"
    assert strip_controls("first\r\nsecond\rthird\tx", multiline=True) == "first\nsecond\nthird\tx"


def test_clean_keeps_the_line_after_an_open_osc():
    assert (
        clean(
            "Printer broken \x1b]8;;see below\nline 2 important details",
            "description",
            max_len=1000,
            multiline=True,
        )
        == "Printer broken \nline 2 important details"
    )
    assert clean("Printer \x1b]8;;x\nbroken", "title", max_len=100) == "Printer  broken"
