"""A ReportLab canvas that writes each page to its output as soon as the page is finished, so that
the memory a long document needs does not grow with its pages.

ReportLab's own PDFDocument keeps every page (its dictionary and content stream) until `save()`,
then formats the whole document into one list of byte strings before writing it: for the
98,000-line payroll sheet, tens of MiB growing about 8 KiB a page. StreamingPDFDocument is a
subclass of it (no ReportLab global is touched): a finished page's dictionary and content stream
are written at once and forgotten, keeping only their offsets for the cross-reference table (8
bytes an object) and the page's object number for the page tree (4 bytes a page). What cannot
be written before the end is written at `save()`: the fonts (TrueType subsets are only known once
every character has been drawn: ReportLab's subsetting and HarfBuzz shaping are unchanged), the
page tree, the catalog, the document information, the cross-reference table and the trailer —
each of them a bounded size but the page tree and the table, which are written in pieces."""

from __future__ import annotations

from array import array
from typing import BinaryIO

from reportlab.pdfbase.pdfdoc import (
    PDFDocument,
    PDFFile,
    PDFIndirectObject,
    PDFPage,
    PDFStream,
    PDFTrailer,
    PDFZCompress,
)
from reportlab.pdfgen.canvas import Canvas

# Entries of the page tree and of the cross-reference table written per write() at the end.
WRITE_EVERY = 1024


class StreamingPDFDocument(PDFDocument):
    """A PDF document that writes its pages to `output` as they are added."""

    def __init__(self, output: BinaryIO, **options) -> None:
        super().__init__(**options)
        self._output = output
        self._position = 0
        # By object number: where each object starts in the file (0 until it is written).
        self._offsets = array("Q", [0])
        self._page_numbers = array("L")
        self._write(PDFFile(self._pdfVersion).format(self))

    def _write(self, data: bytes) -> None:
        self._output.write(data)
        self._position += len(data)

    def _write_object(self, name: str, *, forget: bool) -> None:
        """Write the object registered as `name`; forgotten (only its offset kept) when nothing
        will refer to it by name again."""
        number, _version = self.idToObjectNumberAndVersion[name]
        data = PDFIndirectObject(name, self.idToObject[name]).format(self)
        if len(self._offsets) <= number:
            self._offsets.extend([0] * (number + 1 - len(self._offsets)))
        self._offsets[number] = self._position
        self._write(data)
        if forget:
            del self.idToObject[name]
            del self.numberToId[number]
            del self.idToObjectNumberAndVersion[name]

    def addPage(self, page: PDFPage) -> None:
        """Register the page as ReportLab does, then write it and its content stream now."""
        if self.encrypt.info() is not None:
            raise ValueError("StreamingPDFDocument does not encrypt.")
        name = self.thisPageName()
        self.Reference(page, name)
        self.pageCounter += 1
        self.inObject = None
        if page.stream is not None and not page.Contents:
            # The stream PDFPage.check_format would make, compressed without ASCII85 (a quarter
            # smaller) and without reading ReportLab's global settings.
            page.Contents = PDFStream(
                content=page.stream, filters=[PDFZCompress] if page.compression else None
            )
            page.stream = None
        self._page_numbers.append(self.idToObjectNumberAndVersion[name][0])
        # Formatting the page registers its content stream (and, once, the page tree).
        self._write_object(name, forget=True)
        if isinstance(page.Contents, PDFStream):
            self._write_object(page.Contents.__InternalName__, forget=True)

    def SaveToFile(self, filename, canvas) -> None:
        """Write what is left: GetPDFData prepares the fonts and calls format() below."""
        self.GetPDFData(canvas)

    def format(self) -> bytes:
        """Every object not written yet, in order of number (formatting one may register
        more), then the cross-reference table and the trailer."""
        self.encrypt.prepare(self)
        catalog = self.Reference(self.Catalog)
        info = self.Reference(self.info)
        number = 1
        while number <= self.objectcounter:
            name = self.numberToId.get(number)
            if name is not None:
                if self.idToObject[name] is self.Pages:
                    self._write_page_tree(number)
                else:
                    self._write_object(name, forget=False)
            number += 1
        start = self._position
        size = self.objectcounter + 1
        self._write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
        for first in range(1, size, WRITE_EVERY):
            self._write(
                b"".join(
                    b"%010d 00000 n \n" % self._offsets[number]
                    for number in range(first, min(first + WRITE_EVERY, size))
                )
            )
        trailer = PDFTrailer(startxref=start, Size=size, Root=catalog, Info=info, ID=self.ID())
        self._write(trailer.format(self))
        return b""

    def _write_page_tree(self, number: int) -> None:
        """The one page tree node (as ReportLab's PDFPages), its kids written in pieces."""
        self._offsets[number] = self._position
        self._write(b"%d 0 obj\n<<\n/Count %d /Kids [" % (number, len(self._page_numbers)))
        for first in range(0, len(self._page_numbers), WRITE_EVERY):
            self._write(
                b"".join(
                    b" %d 0 R" % page for page in self._page_numbers[first : first + WRITE_EVERY]
                )
            )
        self._write(b" ] /Type /Pages\n>>\nendobj\n")


class StreamingCanvas(Canvas):
    """A ReportLab canvas drawing into a StreamingPDFDocument: the same drawing operations,
    pages written as they are shown. Not for encrypted PDFs, outlines or forms that refer to
    earlier pages (nothing here uses them)."""

    def __init__(self, output: BinaryIO, **options) -> None:
        super().__init__(output, **options)
        # Canvas makes its PDFDocument itself; replace it before anything is drawn, and set the
        # preamble again (it names the initial font in the document).
        original = self._doc
        self._doc = StreamingPDFDocument(
            output,
            compression=self._pageCompression,
            invariant=original.invariant,
            pdfVersion=original._pdfVersion,
            lang=options.get("lang"),
        )
        self._make_preamble()
