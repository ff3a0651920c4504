"""Street addresses: a house number, up to five capitalized street words and
a street type, then an optional unit and an optional city with a state,
ZIP code or UK postcode; and post office boxes.

The parts may be separated by commas or a line break, as on an envelope.
Every repetition is bounded, so a long run of capitalized words costs linear
time.
"""

from __future__ import annotations

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from appliance.privacy.recognizers.base import Settings, find_all, result
from appliance.privacy.registry import RecognizerSpec

# Street types that are rarely anything else after a house number, and
# types that are ordinary words ("3 Green initiatives"), which need at least
# one street word before them.
_STREET_TYPES = (
    "Street|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|"
    "Place|Pl|Terrace|Ter|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Trl|Plaza|Plz|"
    "Pike|Alley|Aly|Expressway|Expy|Freeway|Fwy|Crescent|Cres|Turnpike|Tpke|"
    "Causeway|Xing|Hts|Gdns|Ctr|Broadway"
)
_WEAK_STREET_TYPES = (
    "Way|Square|Sq|Trail|Loop|Row|Close|Grove|Mews|Path|Run|Walk|Point|Pt|"
    "Crossing|Heights|Ridge|Bend|Cove|Green|Hollow|Park|Gardens|View|Estates|"
    "Landing|Commons|Center"
)
_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|"
    "MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|"
    "WV|WI|WY|PR|GU|VI|Alabama|Alaska|Arizona|Arkansas|California|Colorado|"
    "Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|"
    "Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|"
    "Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|"
    "New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio|"
    "Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|"
    "Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|"
    "Wisconsin|Wyoming"
)
_WORD = r"(?:[A-Z][A-Za-z'.-]{0,24}|\d{1,3}(?:st|nd|rd|th)|[NSEW]\.?)"
_SEPARATOR = r"(?:,?[ \t]{1,3}|,?[ \t]{0,2}\n[ \t]{0,2})"
_UNIT = (
    r"(?:" + _SEPARATOR + r"(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|Room|Rm|"
    r"Bldg|Building|Dept|#)\.?[ \t]{0,2}#?[ \t]{0,2}[A-Za-z0-9-]{1,6})?"
)
_ZIP = r"\d{5}(?:-\d{4})?"
_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}"
_CITY = r"[A-Z][A-Za-z.'-]{1,24}(?:[ \t]{1,2}[A-Z][A-Za-z.'-]{1,24}){0,3}"
_TAIL = (
    r"(?:" + _SEPARATOR + _CITY + r"(?:,?[ \t]{1,3}(?:(?-i:" + _STATES + r")\.?"
    r"(?:[ \t]{1,3}" + _ZIP + r")?|" + _ZIP + r"|" + _POSTCODE + r")))?"
)
_STREET = regex.compile(
    r"(?<![\w.-])\d{1,6}[A-Za-z]?(?:-\d{1,4})?[ \t]{1,3}(?:(?:"
    + _WORD
    + r"[ \t]{1,3}){0,5}(?i:"
    + _STREET_TYPES
    + r")|(?:"
    + _WORD
    + r"[ \t]{1,3}){1,5}(?i:"
    + _WEAK_STREET_TYPES
    + r"))\.?(?![\w-])"
    r"(?:[ \t]{1,2}(?:N|S|E|W|NE|NW|SE|SW)\.?(?![\w]))?" + _UNIT + _TAIL
)
_PO_BOX = regex.compile(
    r"(?<![\w])(?i:P\.?[ \t]?O\.?[ \t]?Box|Post Office Box)[ \t]{1,3}\d{1,6}" + _TAIL
)


class StreetAddressRecognizer(EntityRecognizer):
    def __init__(self, spec: RecognizerSpec, settings: Settings) -> None:
        super().__init__(supported_entities=[spec.entity], name=spec.name)
        self.spec = spec
        self.settings = settings

    def load(self) -> None:
        return

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        found = []
        for pattern in (_STREET, _PO_BOX):
            for match in find_all(pattern, text, self.settings.timeout):
                start, end = match.span()
                found.append(result(self.spec.entity, start, end, 0.9, self.spec.name))
        return found
