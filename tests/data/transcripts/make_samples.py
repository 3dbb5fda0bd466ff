"""Write the Word, OpenDocument and damaged sample transcripts of this folder.

The text formats (Otter, Zoom, Teams, Rev, noScribe) are kept as they are; the
binary ones are made here so that what they hold can be read: `python make_samples.py`.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from docx import Document
from docx.shared import Pt

HERE = Path(__file__).resolve().parent

OTTER_TURNS = [
    (
        "Interviewer",
        "00:00",
        "Thanks for talking to me, Aisha. How do people find the advice service now?",
    ),
    (
        "Aisha Khan",
        "00:06",
        "Mostly through the phone line, and then we book them in. Since the drop-in closed, it's the phone or the web form.",
    ),
    ("Interviewer", "00:19", "What happens to people who can't use the web form?"),
    (
        "Aisha Khan",
        "00:24",
        "They ring, and they wait. Some of them wait an hour. Example: last week a man rang four times before he got through.",
    ),
]


def otter_docx() -> None:
    doc = Document()
    doc.add_paragraph("Advice service, Aisha")
    doc.add_paragraph("Thu, Mar 05, 2026 11:02AM • 1:05")
    doc.add_paragraph("SUMMARY KEYWORDS")
    doc.add_paragraph("phone, web form, drop-in, wait")
    doc.add_paragraph("SPEAKERS")
    doc.add_paragraph("Aisha Khan, Interviewer")
    for speaker, time, text in OTTER_TURNS:
        doc.add_paragraph(f"{speaker}  {time}")
        doc.add_paragraph(text)
    doc.add_paragraph("Transcribed by https://otter.ai")
    doc.save(HERE / "otter_export.docx")


def teams_docx() -> None:
    doc = Document()
    doc.add_paragraph("Transcript")
    doc.add_paragraph("April 8, 2026, 10:02AM")
    doc.add_paragraph("Sara Holm started transcription")
    turns = [
        (
            "Sara Holm",
            "0:03",
            ["Tak fordi du ville være med, Mette. Hvordan kontakter borgerne jer i dag?"],
        ),
        (
            "Mette Larsen",
            "0:09",
            [
                "De fleste ringer eller kommer forbi.",
                "Men mange bliver sendt videre til borger.dk.",
            ],
        ),
        ("Sara Holm", "0:21", ["Hvad sker der så?"]),
        (
            "Mette Larsen",
            "0:24",
            ["Så kommer de tilbage til os, fordi de ikke kan finde ud af MitID."],
        ),
        ("Sara Holm", "1:02:05", ["Er der andet, du vil sige til strategien?"]),
        ("Mette Larsen", "1:02:09", ["Behold en skranke, hvor man kan møde et menneske."]),
    ]
    for speaker, time, paragraphs in turns:
        doc.add_paragraph(f"{speaker}   {time}")
        for text in paragraphs:
            doc.add_paragraph(text)
    doc.add_paragraph("Sara Holm stopped transcription")
    doc.save(HERE / "teams.docx")


def word_bold_names() -> None:
    """French typography, names in bold, a turn over two paragraphs, a title and date."""
    doc = Document()
    doc.add_heading("Entretien P13 – Camille", level=1)
    doc.add_paragraph("Lille, le 6 mai 2026")
    doc.add_paragraph("Durée : 42 minutes")
    turns = [
        ("Enquêtrice\u00a0:", ["Camille, en quoi consiste votre travail ?"]),
        (
            "Camille :",
            [
                "J'accompagne les personnes qui ont des difficultés avec le numérique.",
                "Surtout pour les démarches urgentes : la CAF, les impôts, France Travail.",
            ],
        ),
        ("Enquêtrice :", ["Qui sont ces personnes ?"]),
        (
            "Camille :",
            [
                "Des personnes âgées, des jeunes sans ordinateur, des personnes qui ne lisent pas bien le français."
            ],
        ),
        ("Enquêtrice :", ["Que faudrait-il changer ?"]),
        (
            "Camille :",
            [
                "Garder un accueil physique. Exemple : une permanence sans rendez-vous deux fois par semaine."
            ],
        ),
    ]
    for name, paragraphs in turns:
        p = doc.add_paragraph()
        p.add_run(name).bold = True
        p.add_run(" " + paragraphs[0])
        for more in paragraphs[1:]:
            doc.add_paragraph(more)
    doc.save(HERE / "word_bold_names.docx")


def word_speaker_lines() -> None:
    """A speaker and time line, then the words; a table of turns at the end."""
    doc = Document()
    doc.add_paragraph("Interview with Gareth, 10 March 2026").runs[0].font.size = Pt(14)
    for stamp, speaker, text in [
        ("00:00:00", "INTERVIEWER", "Gareth, you train advisers. What do they struggle with?"),
        ("00:00:06", "GARETH", "Knowing when to do it for someone and when to teach them."),
        ("00:00:15", "INTERVIEWER", "And which is it usually?"),
        ("00:00:18", "GARETH", "It depends on the deadline. If the claim closes today, you do it."),
    ]:
        doc.add_paragraph(f"[{stamp}] {speaker}")
        doc.add_paragraph(text)
    doc.save(HERE / "word_speaker_lines.docx")


def word_table() -> None:
    doc = Document()
    doc.add_paragraph("Interview P05")
    table = doc.add_table(rows=0, cols=3)
    for stamp, speaker, text in [
        ("00:00:00", "Interviewer", "What changed when the office closed?"),
        ("00:00:05", "Gareth", "People stopped coming in and started ringing."),
        ("00:00:12", "Interviewer", "Did that work?"),
        ("00:00:14", "Gareth", "For some. Not for the ones who need it most."),
    ]:
        cells = table.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = stamp, speaker, text
    doc.save(HERE / "word_table.docx")


def odt() -> None:
    paragraphs = [
        ("h", "Interview P09"),
        ("p", "Interviewer: Bent, hvordan klarer du dine ærinder med kommunen?"),
        ("p", "Bent: Min datter hjælper mig med det meste på computeren."),
        ("p", "Interviewer: Og når hun ikke kan?"),
        ("p", "Bent: Så venter jeg. Eller jeg går ned på biblioteket."),
    ]
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    level = ' text:outline-level="1"'
    body = "".join(
        f"<text:{tag}{level if tag == 'h' else ''}>{text}</text:{tag}>" for tag, text in paragraphs
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns}>'
        f"<office:body><office:text>{body}</office:text></office:body>"
        "</office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", "<manifest/>")
    (HERE / "bent.odt").write_bytes(buffer.getvalue())


def placeholder() -> None:
    doc = Document()
    doc.add_paragraph("Removed: the participant did not consent to the use of this interview.")
    doc.save(HERE / "P18_placeholder.docx")


def bad_files() -> None:
    """Damaged and unreadable files, for the bad-input corpus."""
    bad = HERE.parent.parent / "bad_inputs" / "transcripts"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("photos/readme.txt", "holiday photos")
    (bad / "P01_renamed_zip.docx").write_bytes(buffer.getvalue())
    Document().save(bad / "P01_empty.docx")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig = plt.figure(figsize=(2, 1))
    fig.text(0.1, 0.5, "Interviewer: hello")
    fig.savefig(bad / "P01_pdf_renamed.txt", format="pdf", metadata={"CreationDate": None})
    plt.close(fig)
    source = io.BytesIO()
    doc = Document()
    doc.add_paragraph("Interviewer: This file is protected.")
    doc.save(source)
    try:  # msoffcrypto-tool writes Word's own password protection (Agile encryption)
        from msoffcrypto.format.ooxml import OOXMLFile

        source.seek(0)
        with (bad / "P01_password.docx").open("wb") as out:
            OOXMLFile(source).encrypt("secret", out)
    except ImportError:
        print("password.docx kept as it is: pip install msoffcrypto-tool to remake it")


if __name__ == "__main__":
    otter_docx()
    teams_docx()
    word_bold_names()
    word_speaker_lines()
    word_table()
    odt()
    placeholder()
    bad_files()
