"""The spec's XML: built with ElementTree, so resident text is always text, never markup.

ElementTree escapes ``<``, ``&`` and quotes, but it would copy characters XML 1.0 forbids
(control characters, lone surrogates) into a document no client can parse; those are
dropped here. JSON is the same tree under the Spark convention, so one payload serves both.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

#: A list under this element holds children with this name.
ITEM_NAMES = {
    "services": "service", "service_requests": "request", "errors": "error",
    "endpoints": "endpoint", "formats": "format", "attributes": "attribute",
    "values": "value",
}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'


def to_xml(root: str, payload: object) -> bytes:
    """``payload`` (dicts, lists, scalars) as a UTF-8 document under ``root``."""
    element = ET.Element(root)
    _fill(element, payload)
    return DECLARATION + ET.tostring(element, encoding="utf-8")


def _fill(element: ET.Element, value: object) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        name = ITEM_NAMES.get(element.tag, "item")
        for item in value:
            _fill(ET.SubElement(element, name), item)
    elif value is not None:
        element.text = xml_text(value)


def xml_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))
