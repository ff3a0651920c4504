"""Policies are cut along their headings, and passages into sentences."""

from __future__ import annotations

from appliance.hr.chunking import chunk, plain, sentences


def test_markdown_headings_start_passages():
    text = (
        "---\ntitle: Leave\n---\n# Leave\n\nIntro text.\n\n## Sick leave\n\n"
        "Use it when ill.\n\n### Family care\n\nCare for relatives.\n\n"
        "## Annual leave\n\nTake holidays.\n"
    )
    passages = chunk(text)
    sections = [p.section for p in passages]
    assert sections == [
        "Leave",
        "Leave > Sick leave",
        "Leave > Sick leave > Family care",
        "Leave > Annual leave",
    ]
    assert passages[2].text == "Care for relatives."
    assert all("title:" not in p.text for p in passages)


def test_numbered_sections_start_passages():
    text = (
        "1. PURPOSE\n\nWhy this exists.\n\n2. Leave Rules\n\nGeneral rules.\n\n"
        "2.1 Sick leave\n\nTen days a year.\n\nSection 3: Travel\n\nBook early.\n"
    )
    sections = [p.section for p in chunk(text)]
    assert sections == [
        "1. PURPOSE",
        "2. Leave Rules",
        "2. Leave Rules > 2.1 Sick leave",
        "Section 3: Travel",
    ]


def test_numbered_list_items_are_not_headings():
    text = "## Steps\n\n1. open the form and fill it in.\n2. send it.\n"
    passages = chunk(text)
    assert len(passages) == 1
    assert passages[0].section == "Steps"


def test_underlined_headings_start_passages():
    text = "Benefits\n========\n\nHealth cover.\n\nDental\n------\n\nTwice a year.\n"
    sections = [p.section for p in chunk(text)]
    assert sections == ["Benefits", "Benefits > Dental"]


def test_long_section_is_cut_between_paragraphs():
    paragraph = "This sentence fills the section with words. " * 10
    text = "## Long\n\n" + "\n\n".join([paragraph] * 6)
    passages = chunk(text, max_chars=1000)
    assert len(passages) > 1
    assert all(p.section == "Long" for p in passages)
    assert all(len(p.text) <= 1000 for p in passages)


def test_template_tags_are_dropped():
    text = '## Leave\n\nSee {% page "/leave/" %} for more.\n'
    assert chunk(text)[0].text == "See  for more."


def test_sentences_split_items_and_wrapped_lines():
    text = (
        "Leave accrues by service:\n* Fewer than 3 years: 4 hours\n"
        "* 15+ years: 8 hours\n\nEmployees are eligible if\nthey work 12 months. "
        "They must ask first."
    )
    assert sentences(text) == [
        "Leave accrues by service:",
        "* Fewer than 3 years: 4 hours",
        "* 15+ years: 8 hours",
        "Employees are eligible if they work 12 months.",
        "They must ask first.",
    ]


def test_plain_drops_markdown():
    assert plain("* See [the page](https://x.example) **now**") == "See the page now"
