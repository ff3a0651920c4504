"""Word lists the person recognizer uses, and the census name lists.

Given names and surnames come from the ``names`` package, which ships the
1990 US Census frequency lists (public domain data): 5,494 given names and
88,799 surnames. They lean towards names common in the US in 1990, so a
short list of given names common elsewhere is added here.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from spacy.lang.en.stop_words import STOP_WORDS as SPACY_STOP_WORDS


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


TITLES = (
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "prof",
    "professor",
    "sir",
    "dame",
    "rev",
    "reverend",
    "judge",
    "sgt",
    "capt",
    "lt",
    "col",
)

# Given names common outside the 1990 US census sample.
EXTRA_GIVEN_NAMES = _word_set(
    """
aaliyah aarav abdul adebayo adeola aditi aditya afua ahmed aisha akira
akosua alejandro alessandro amara amir amira ana anahi ananya andrei anika
anjali arjun asha ayesha bao beatriz bilal camila chidi chinedu chioma
darius dmitri elif emeka eun farah fatima fatuma giulia haruto hamza hana
hiroshi hyun ibrahim ifeoma ikechukwu imani isabela jia jin jorge juan
kai kavya kemal keisha kenji kwame kofi laila lakshmi lucia mai malik
mariam mateo mei mehmet min ming mohamed mohammed muhammad nadia naveen
neha ngozi nikhil nkechi noor nuno obinna oksana olga oluwaseun omar
pablo pavel pooja priya rahul raj rajesh ravi rohan sahil samir sanjay
santiago seo shreya siddharth sina sipho somchai sofia sun sunil suresh
tanvir thabo tomasz valentina vikram wei xin yan yasmin yerlan yuki yusuf
zainab zara zeynep zhang zhen zoya an anh binh dung hai hoa hung lan linh minh nam ngoc
phuong quang thanh thao trang tuan imogen sophy
"""
)

# Capitalized words that headings and forms put where a name could stand.
# A candidate name made only of these is dropped, and they end a name.
NOT_NAME_WORDS = _word_set(
    """
    about access account accounting accounts act action actions additional
    address admin administration administrative adoption advisor advisory
    after agency agreement all allowance analyst annual answer any appeal
    applicant application applications approval approved approver
    asset assets assistance assistant associate attendance audit
    authority available award balance bank banking base benefit benefits
    bereavement board bond bonus branch budget business calendar call card
    care career case cash center centre certificate certification chair
    change chief child civil claim claims client clients code committee
    company compensation compliance confidential contact contract
    contractor coordinator corporate council counsel court credit
    customer daily data date day days dear december deduction deductions
    department deposit deputy desk details development director
    disability discipline disclosure division document donor due duty
    each earned effective eligibility email emergency employee employees
    employer employment engineer engineering enrollment equity estate
    executive expense expenses facility family fax february federal fee
    fees finance financial fiscal form forms friday full fund funds general
    gift global government  group guard guide guidance handbook head
    health healthcare help hiring holiday holidays home hours house human
    income information insurance interest internal investment investor
    invoice january job july  jury labor labour law lead leader leave
    leaves legal letter level liability life limited line loan local
    management manager march market marketing  medical meeting member
    members memo memorandum military minutes monday month monthly mortgage
    national net new news note notice november number october office
    officer official onboarding operations order other overtime paid parental
    part payment payroll pension people performance period personal
    personnel phone plan planning please policy portal position premium
    president principal privacy procedure process program programs project
    public purchase quarter quarterly rate record records recruiting
    recruitment refund regards region regional relations report request
    requests reserve resources retirement review risk role safety salary
    sales saturday savings schedule school section security senior service
    services sick signature social specialist staff standard start state
    statement status submit subject summary sunday supervisor support
    system tax team teams technology telework temporary the these this
    thursday time title total training transfer travel treasury trust
    tuesday union unit update vacation vendor vice wage wages wednesday
    secretary economist adviser governor treasurer controller auditor
    economic outlook weather drive presidential harassment town city county
    without refer lose pay see tel fax ph mob mobile cell email e-mail ext re
    fw fwd ref nr no open market united
    week weekly welcome work workforce yearly year years you your
    """
)

# Name parts that are also common words, never matched alone when a full
# name spreads to its parts ("Will Turner" must not redact "will").
COMMON_WORD_NAMES = _word_set(
    """
    will may june april august mark bill grant rose hope faith joy sky summer
    autumn dawn chase hunter price young king long little black white brown
    green gray grey rich bell cash banks case hall park lane street ward wood
    woods hill field fields ford page day law love major miles rice stone
    storm frank guy art pat sue don ray rob drew gene jack bob penny sandy
    carol holly ivy ruby pearl crystal amber jade iris lily daisy violet
    heather angel max lee pierce chance noble sterling early best small
    hardy gay bush rush cook baker mason porter fisher hunt power strong
    """
)


# English function words (spaCy's list), some of which are also census
# names ("will", "else").
STOP_WORDS = frozenset(SPACY_STOP_WORDS)


# Given names that are at least as often places or companies, never taken
# for a person when they stand alone.
PLACE_NAMES = _word_set(
    """
    paris austin dallas houston jordan georgia victoria sydney florence
    chelsea madison charlotte phoenix denver orlando lincoln jackson
    washington chase camden devon kent york china india israel asia
    virginia carolina dakota nevada tennessee
    """
)


def _census_names(filename: str) -> set[str]:
    text = resources.files("names").joinpath(filename).read_text(encoding="ascii")
    return {line.split()[0].lower() for line in text.splitlines() if line.strip()}


@lru_cache(maxsize=1)
def census_given_names() -> frozenset[str]:
    return frozenset(
        _census_names("dist.male.first") | _census_names("dist.female.first")
    )


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    return census_given_names() | EXTRA_GIVEN_NAMES


@lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    return frozenset(_census_names("dist.all.last"))
