"""Word lists the person recognizer uses, and the name lists.

Given names and surnames come from three sources:

- the ``names`` package, which ships the 1990 US Census frequency lists
  (public domain data): 5,494 given names and 88,799 surnames;
- Faker's person providers, which list given names and surnames common in
  about 60 locales written in Latin letters (West and East Africa, South
  Asia, Turkey, Central Asia, Eastern and Western Europe, Latin America,
  and the romanized Japanese and Chinese lists);
- short lists here of given names and surnames common outside both,
  and of Russian and Ukrainian surnames, which Faker spells only in
  Cyrillic letters.

Faker's lists hold some common words ("Blessing", "Precious", "Justice",
"General"); an entry that pyspellchecker's English frequency list (word
counts from the OpenSubtitles corpus) counts at least LISTED_WORD_COUNT
times is left out, so that it never makes a name of a capitalized phrase.
"""

from __future__ import annotations

import gzip
import importlib
import json
import pkgutil
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

import regex
from spacy.lang.en.stop_words import STOP_WORDS as SPACY_STOP_WORDS

# A word counted this often in pyspellchecker's English list is a common
# English word: "prevention" (1,187), "acrobat" (582), "adobe" (227); names
# that are no English word count far less ("lakshmi" 70, "sophy" 50) or
# not at all ("adeyemi").
COMMON_WORD_COUNT = 100
# Names are frequent in film dialogue too ("campbell" 530, "ludwig" 107),
# so Faker's entries are left out only from this count on, where English
# words outnumber names ("plaza", "forum", "holder").
LISTED_WORD_COUNT = 1000
# A word counted this often is an everyday word ("valley" 14,516, "west"
# 37,891), unlike most surnames, even frequent ones ("smith" 1,006).
EVERYDAY_WORD_COUNT = 5000
# An everyday word reads as a given name in lower case only when at least
# this percentage of people in the census bear it: "john" (3.271) and
# "grace" (0.189) do, "numbers" (0.008) and "young" (0.010) do not.
LOWER_CASE_NAME_SHARE = 0.05


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
abimbola adunni ayodele ayotunde babajide bolanle funke funmilayo folake
kehinde taiwo olamide olufemi olumide oluwadamilare oluwakemi segun sola
temitope tolulope yetunde chinwe chukwudi nnamdi uchenna adanna akua ama
abena esi kwaku yaw kojo efua yaa lindiwe nomsa thandeka zodwa zanele
bongani sibusiso thulani mandla lwazi njeri achieng otieno wanjiru abebe
dawit tigist selam yohannes khalid tariq tarek youssef yousef layla leila
hassan hussein karim rami ziad nour rania samira walid faisal mustafa
mahmoud srinivas venkatesh ravindra sunita kavita deepak anand gopal
yevgeny yevgenia yekaterina ekaterina tatiana natalia irina oleksandr
oleksiy kateryna bohdan taras yuliya dmitry sergei mikhail nikolai
takeshi kazuki yuto sakura haruki jae yeon seung
"""
)

# Surnames common outside the 1990 US census sample, and Russian and
# Ukrainian surnames, which Faker lists only in Cyrillic letters.
EXTRA_SURNAMES = _word_set(
    """
adebayo adeleke adeyemi afolabi akande bakare balogun fashola ogunleye
olaniyan oyelaran okafor okonkwo nwosu nwankwo eze obi okoro onyeka
mensah asante boateng owusu appiah dlamini ndlovu nkosi khumalo mthembu
zulu moyo kamau otieno njoroge wanjiru tesfaye haile shankar iyer pillai
nair menon reddy rao sharma verma gupta mehta joshi kulkarni deshpande
chatterjee banerjee mukherjee ghosh qureshi siddiqui chaudhry haddad
mansour khoury nasser saleh hamdan rahman
ivanov ivanova smirnov smirnova kuznetsov kuznetsova popov popova sokolov
sokolova lebedev lebedeva kozlov kozlova novikov novikova morozov morozova
petrov petrova volkov volkova pavlov pavlova orlov orlova fedorov fedorova
kovalenko bondarenko shevchenko tkachenko kravchenko melnyk boyko
kovalchuk oliynyk
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
    cheers thanks hi hello hey sincerely congratulations congrats greetings
    payable receivable procurement purchasing billing collections
    underwriting reception facilities logistics helpdesk jr sr ii iii iv
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


MONTHS_AND_DAYS = _word_set(
    """
    january february march april may june july august september october
    november december jan feb mar apr jun jul aug sep sept oct nov dec
    monday tuesday wednesday thursday friday saturday sunday mon tue tues
    wed thu thur thurs fri sat sun
    """
)

# First words of place names ("Santa Clara", "Saint Louis", "Costa Rica").
PLACE_FIRST_WORDS = _word_set(
    """
    san santa santo sao saint st ste fort ft port mount mt lake new north
    south east west northern southern eastern western central upper lower
    greater costa sierra puerto hong sri el los las la des buenos rio
    """
)


def fold(word: str) -> str:
    """``word`` in lower case without accents, for list lookups: "Nguyễn"
    is looked up as "nguyen"."""
    decomposed = unicodedata.normalize("NFKD", word.strip(".,'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=1)
def english_counts() -> dict[str, int]:
    """Return the count of each word in pyspellchecker's English list."""
    path = resources.files("spellchecker").joinpath("resources/en.json.gz")
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as text:
        counts: dict[str, int] = json.load(text)
    return counts


def is_common_word(word: str) -> bool:
    """Return whether ``word`` (folded) is a common English word."""
    return english_counts().get(word, 0) >= COMMON_WORD_COUNT


def is_everyday_word(word: str) -> bool:
    """Return whether ``word`` (folded) is an everyday English word."""
    return english_counts().get(word, 0) >= EVERYDAY_WORD_COUNT


_LATIN_WORD = regex.compile(r"\p{Latin}[\p{Latin}'-]{1,30}")


def _provider_names(attribute_kind: str) -> set[str]:
    """Folded single words from every Faker person provider's lists whose
    attribute name contains ``attribute_kind`` ("first" or "last")."""
    import faker.providers.person as people

    found: set[str] = set()
    for module in pkgutil.iter_modules(people.__path__):
        # The generic English list holds United States baby names such as
        # "Texas" and "Boston"; the census lists cover English names.
        if module.name == "en":
            continue
        provider = getattr(
            importlib.import_module(f"{people.__name__}.{module.name}"),
            "Provider",
            None,
        )
        for attribute, value in vars(provider or object).items():
            if attribute_kind in attribute and attribute.endswith("names"):
                found.update(_latin_words(value))
    return found


def _latin_words(value: object) -> Iterable[str]:
    if not isinstance(value, (tuple, list, dict)):
        return ()
    return (
        fold(word)
        for name in value
        if isinstance(name, str)
        for word in name.split()
        if _LATIN_WORD.fullmatch(word)
    )


def _uncommon(words: Iterable[str]) -> frozenset[str]:
    return frozenset(
        word
        for word in words
        if english_counts().get(word, 0) < LISTED_WORD_COUNT
        and word not in STOP_WORDS
        and word not in NOT_NAME_WORDS
        and word not in MONTHS_AND_DAYS
    )


@lru_cache(maxsize=1)
def world_given_names() -> frozenset[str]:
    """Given names from Faker's providers, without common English words."""
    return _uncommon(_provider_names("first"))


@lru_cache(maxsize=1)
def world_surnames() -> frozenset[str]:
    """Surnames from Faker's providers, without common English words."""
    return _uncommon(_provider_names("last"))


def _census_names(filename: str) -> set[str]:
    text = resources.files("names").joinpath(filename).read_text(encoding="ascii")
    return {line.split()[0].lower() for line in text.splitlines() if line.strip()}


@lru_cache(maxsize=1)
def census_given_names() -> frozenset[str]:
    return frozenset(
        _census_names("dist.male.first") | _census_names("dist.female.first")
    )


@lru_cache(maxsize=1)
def census_given_share() -> dict[str, float]:
    """Return each census given name's share of people, in percent, the
    larger of its male and female shares ("john" 3.271, "numbers" 0.008)."""
    shares: dict[str, float] = {}
    for filename in ("dist.male.first", "dist.female.first"):
        text = resources.files("names").joinpath(filename).read_text(encoding="ascii")
        for line in text.splitlines():
            fields = line.split()
            if len(fields) >= 2:
                name = fields[0].lower()
                shares[name] = max(shares.get(name, 0.0), float(fields[1]))
    return shares


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    return census_given_names() | EXTRA_GIVEN_NAMES | world_given_names()


@lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    return frozenset(_census_names("dist.all.last")) | EXTRA_SURNAMES | world_surnames()
