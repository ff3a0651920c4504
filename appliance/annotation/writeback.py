"""Writing an annotation back into the file it describes.

PDF: the document information dictionary (pypdf), with the summary as
``/Subject``, the tags as ``/Keywords`` and every field under a custom
``/Annotation...`` key. DOCX: the core properties (subject, keywords,
category) and custom document properties (``docProps/custom.xml``). The
content is not changed otherwise, though pypdf and python-docx rewrite the
file's structure when they save it.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any
from xml.etree import ElementTree

import defusedxml.ElementTree as SafeElementTree  # type: ignore[import-untyped]
import docx
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from appliance.documents import detection

CUSTOM_PART = "docProps/custom.xml"
CUSTOM_CONTENT_TYPE = (
    "application/vnd.openxmlformats-officedocument.custom-properties+xml"
)
CUSTOM_REL_TYPE = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    "custom-properties"
)
PROPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
# The format id every custom property carries (ECMA-376 Part 1, 22.3.2.2).
CUSTOM_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"

SUPPORTED = {detection.PDF: "pdf", detection.DOCX: "docx"}


class WritebackUnsupported(ValueError):
    """The file is not a PDF or DOCX, or cannot be rewritten."""


def properties(result: dict[str, Any]) -> dict[str, str]:
    """The annotation fields as named text properties."""
    return {
        "AnnotationDocumentType": result["document_type"],
        "AnnotationClassification": result["classification"],
        "AnnotationRetention": result["retention"],
        "AnnotationLanguage": result["language"],
        "AnnotationTags": ", ".join(result["tags"]),
        "AnnotationSummary": result["summary"],
        "AnnotationPii": json.dumps(result["pii"], sort_keys=True),
        "AnnotationTaxonomy": f"{result['taxonomy']['id']}@"
        f"{result['taxonomy']['version']}",
    }


def write_back(data: bytes, result: dict[str, Any]) -> tuple[bytes, str]:
    """The file with ``result`` written into it, and its content type."""
    content_type = detection.detect(data)
    if content_type == detection.PDF:
        return _pdf(data, result), content_type
    if content_type == detection.DOCX:
        return _docx(data, result), content_type
    raise WritebackUnsupported(
        "Annotations can be written back into PDF and DOCX files only."
    )


def _pdf(data: bytes, result: dict[str, Any]) -> bytes:
    try:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    except (PdfReadError, ValueError, KeyError, TypeError, OSError):
        raise WritebackUnsupported("The PDF cannot be rewritten.") from None
    metadata = {f"/{name}": value for name, value in properties(result).items()}
    metadata["/Subject"] = result["summary"]
    metadata["/Keywords"] = ", ".join(result["tags"])
    writer.add_metadata(metadata)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _docx(data: bytes, result: dict[str, Any]) -> bytes:
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # python-docx raises many unrelated types on bad input
        raise WritebackUnsupported("The DOCX file cannot be rewritten.") from None
    core = document.core_properties
    core.subject = result["summary"][:255]
    core.keywords = ", ".join(result["tags"])
    core.category = result["document_type"]
    out = io.BytesIO()
    document.save(out)
    return _with_custom_properties(out.getvalue(), properties(result))


def _with_custom_properties(data: bytes, values: dict[str, str]) -> bytes:
    """Rewrite the package with ``values`` in docProps/custom.xml, keeping
    custom properties of other names, and the part registered in the content
    types and the package relationships."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts[CUSTOM_PART] = _custom_xml(parts.get(CUSTOM_PART), values)
    parts["[Content_Types].xml"] = _register_type(parts["[Content_Types].xml"])
    parts["_rels/.rels"] = _register_relationship(parts["_rels/.rels"])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name, content in parts.items():
            target.writestr(name, content)
    return out.getvalue()


def _serialize(root: ElementTree.Element) -> bytes:
    body: bytes = ElementTree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return body


def _custom_xml(existing: bytes | None, values: dict[str, str]) -> bytes:
    ElementTree.register_namespace("", PROPS_NS)
    ElementTree.register_namespace("vt", VT_NS)
    if existing:
        root = SafeElementTree.fromstring(existing)
    else:
        root = ElementTree.Element(f"{{{PROPS_NS}}}Properties")
    for prop in list(root):
        if prop.get("name") in values:
            root.remove(prop)
    pids = [int(prop.get("pid", "1")) for prop in root]
    next_pid = max([1, *pids]) + 1
    for offset, (name, value) in enumerate(values.items()):
        prop = ElementTree.SubElement(
            root,
            f"{{{PROPS_NS}}}property",
            {"fmtid": CUSTOM_FMTID, "pid": str(next_pid + offset), "name": name},
        )
        ElementTree.SubElement(prop, f"{{{VT_NS}}}lpwstr").text = value
    return _serialize(root)


def _register_type(content_types: bytes) -> bytes:
    ElementTree.register_namespace("", TYPES_NS)
    root = SafeElementTree.fromstring(content_types)
    part_name = "/" + CUSTOM_PART
    if not any(item.get("PartName") == part_name for item in root):
        ElementTree.SubElement(
            root,
            f"{{{TYPES_NS}}}Override",
            {"PartName": part_name, "ContentType": CUSTOM_CONTENT_TYPE},
        )
    return _serialize(root)


def _register_relationship(rels: bytes) -> bytes:
    ElementTree.register_namespace("", RELS_NS)
    root = SafeElementTree.fromstring(rels)
    if any(item.get("Type") == CUSTOM_REL_TYPE for item in root):
        return _serialize(root)
    ids = {item.get("Id") for item in root}
    number = 1
    while f"rIdCustom{number}" in ids:
        number += 1
    ElementTree.SubElement(
        root,
        f"{{{RELS_NS}}}Relationship",
        {"Id": f"rIdCustom{number}", "Type": CUSTOM_REL_TYPE, "Target": CUSTOM_PART},
    )
    return _serialize(root)
