"""Generate a realistic threaded discussion mbox for the archive benchmarks, reproducibly from a seed.

Usage: python bench/mbox_gen.py OUT.mbox [--count 100000] [--seed 1]

The mail looks like a mitigation specialists' list: ~300 senders (some with
non-ASCII names), threads of 1-30 posts linked by In-Reply-To/References with
"Re:" subjects, replies that quote their parent under an "On ... wrote:" line,
signatures after "-- ", dates spread over six years, a Zipf-like vocabulary of
common English and domain words, and a few posts with an HTML alternative or an
attachment. Posts are 2-5 KB. It streams: each post is written as it is made,
and only the threads still open are kept in memory.

generate() yields Post objects; bench/search.py builds its database from them
directly, without writing or parsing an mbox.
"""

from __future__ import annotations

import argparse
import base64
import email.header
import email.utils
import itertools
import random
import re
import sys
import textwrap
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

COMMON = (
    "the of and to a in is that for it as with was on be by this are have from or at not but an "
    "they which you one we all were her she there would their will when who him been has more if "
    "no out so said what up its about than into them can only other new some could time these two "
    "may then do first any my now such like our over man me even most made after also did many "
    "before must through back years where much your way well down should because each just those "
    "people how too little state good very make world still own see men work long get here between "
    "both life being under never day same another know while last might us great old year off come "
    "since against go came right used take three think help case court client family report judge"
).split()
DOMAIN = (
    "mitigation sentencing records expert psychologist juvenile trauma defendant prosecutor "
    "investigation interview history school medical psychiatric evaluation neuropsychological "
    "testing adolescent childhood abuse neglect foster placement incarceration probation parole "
    "guidelines departure variance allocution narrative timeline genogram subpoena release "
    "authorization hipaa records request social worker caseworker counselor therapist diagnosis "
    "ptsd tbi fetal alcohol spectrum disorder intellectual disability adaptive functioning "
    "capital habeas clemency appellate federal district circuit mandatory minimum plea agreement "
    "presentence investigation psr objections letters support character witnesses employment "
    "military service veteran deployment substance addiction treatment recovery relapse "
    "immigration consequences deportation interpreter spanish cultural competence poverty "
    "community violence exposure adverse experiences aces resilience remorse rehabilitation "
    "reentry housing transitional supervision conditions restitution victim impact statement "
    "hearing continuance budget funding cja voucher billing hourly rate retainer contract "
    "training conference webinar seminar workshop mentor colleague listserv recommendation "
    "referral vetted credentials curriculum vitae testimony daubert qualification deposition"
).split()
RARE = (
    "zygosity palimpsest phenylketonuria kintsugi anosognosia eidetic synesthesia oubliette "
    "quokka xerophthalmia hyperthymesia brachycephaly cryptorchidism dyscalculia ecolalia "
    "fugue hypervigilance ideation kleptomania logorrhea mutism narcolepsy obsequious "
    "pellagra quiescent rickets scurvy tinnitus uremia vertigo wernicke xanthoma"
).split()
STATES = (
    "Alabama Arizona California Colorado Florida Georgia Illinois Kentucky Louisiana Maryland "
    "Michigan Missouri Nevada Ohio Oklahoma Oregon Pennsylvania Tennessee Texas Virginia Washington"
).split()
FIRST = (
    "Ann Bob Carla David Elena Frank Grace Henry Irene Jamal Karen Luis Maria Nathan Olivia Peter "
    "Quinn Rosa Samuel Tanya Umar Vera William Ximena Yusuf Zach Aisha Brian Chloe Derek"
).split()
FIRST_ACCENTED = "José Zoë Björn Renée Łukasz François Siobhán Søren Małgorzata Noël".split()
LAST = (
    "Adams Baker Chen Diaz Evans Foster Garcia Hughes Ivanova Jackson Kim Lopez Moore Nguyen "
    "Okafor Patel Quintero Reyes Smith Turner Underwood Vasquez Walker Young Zimmerman"
).split()
LAST_ACCENTED = "Müller Ramírez Dvořák Þórsson Núñez".split()
DOMAINS = (
    "fd.org pd.example.gov mitigation.example.com gmail.com outlook.com yahoo.com "
    "capitaldefense.example.org sentencing.example.net lawoffice.example.com proton.me"
).split()
TOPICS = (
    "Looking for a {w} expert in {s}", "{w} records request denied", "Question about {w} and {x}",
    "Recommendation: {w} psychologist", "{s} {w} hearing next week", "Anyone dealt with {w} {x}?",
    "Training on {w} in {s}", "Help with a {w} narrative", "{w} evaluation costs", "[CONFIDENTIAL] {w} case help",
)
SIGNATURES = (
    "{name}\nMitigation Specialist\n{org}", "{name}, MSW\nSentencing Advocate\n{org}\n{phone}",
    "{name}\n{org}\nSent from my phone", "Best,\n{name}\nInvestigator, {org}",
)
ORGS = ("Federal Defender Office", "Public Defender Service", "Capital Mitigation Group", "Independent practice")
START = 1_546_300_800  # 2019-01-01 00:00 UTC
SPAN = 6 * 365 * 86400  # six years


@dataclass
class Post:
    """One generated message: the fields the archive stores, and what its mbox bytes are made of."""

    message_id: str
    date: float
    sender: str
    sender_name: str
    subject: str
    in_reply_to: str
    refs: list[str]
    own_text: str  # what the sender wrote
    body_text: str  # own_text + quoted parent + signature, as the plain part reads
    thread: int = 0  # which thread (numbered from 1 as they start)
    html: bool = False  # has an HTML alternative part
    attachments: list[tuple[str, bytes]] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        """The message as it would arrive, RFC 5322 with LF line ends."""
        head = [
            f"From: {email.utils.formataddr((self.sender_name, self.sender), 'utf-8')}",
            "To: mitigation@lists.example.org",
            f"Subject: {_encoded(self.subject)}",
            f"Date: {email.utils.formatdate(self.date)}",
            f"Message-ID: <{self.message_id}>",
            "MIME-Version: 1.0",
        ]
        if self.in_reply_to:
            head.append(f"In-Reply-To: <{self.in_reply_to}>")
            head.append("References: " + "\n ".join(f"<{r}>" for r in self.refs))
        return ("\n".join(head) + "\n" + self._body()).encode("utf-8")

    def _body(self) -> str:
        plain = 'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: 8bit\n\n' + self.body_text + "\n"
        if self.html:
            paragraphs = "".join(f"<p>{p}</p>" for p in self.body_text.split("\n\n"))
            html = f'Content-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: 8bit\n\n<html><body>{paragraphs}</body></html>\n'
            plain = _multipart("alternative", [plain, html], self.message_id + "alt")
        if self.attachments:
            parts = [plain] + [_attachment(name, data) for name, data in self.attachments]
            plain = _multipart("mixed", parts, self.message_id + "mix")
        return plain


def _encoded(text: str) -> str:
    return text if text.isascii() else email.header.Header(text, "utf-8").encode()


def _multipart(kind: str, parts: list[str], seed: str) -> str:
    boundary = "=_" + base64.b32encode(seed.encode()[:15]).decode().rstrip("=")
    body = "".join(f"--{boundary}\n{part}" for part in parts)
    return f'Content-Type: multipart/{kind}; boundary="{boundary}"\n\n{body}--{boundary}--\n'


def _attachment(name: str, data: bytes) -> str:
    encoded = "\n".join(textwrap.wrap(base64.b64encode(data).decode(), 76))
    kind = "application/pdf" if name.endswith(".pdf") else "application/octet-stream"
    return (
        f'Content-Type: {kind}; name="{name}"\nContent-Transfer-Encoding: base64\n'
        f'Content-Disposition: attachment; filename="{name}"\n\n{encoded}\n'
    )


def _wrap(words: list[str], width: int) -> str:
    """Fill words into lines of at most width characters (textwrap.fill, ten times faster)."""
    lines, line, length = [], [], 0
    for word in words:
        if line and length + 1 + len(word) > width:
            lines.append(" ".join(line))
            line, length = [], -1
        line.append(word)
        length += 1 + len(word)
    lines.append(" ".join(line))
    return "\n".join(lines)


def _tail_words(count: int = 15_000) -> list[str]:
    """Made-up words for the long tail of a real vocabulary (fixed, whatever the seed).

    Real mail has tens of thousands of distinct words, most of them rare; without
    a tail every word is in most posts and a search benchmark measures nothing.
    """
    rng, found = random.Random(0), dict.fromkeys(COMMON + DOMAIN + RARE)
    onsets = "b c d f g h k l m n p r s t v w br dr gr pl st tr ch sh".split()
    vowels = "a e i o u a e o ea ou".split()
    codas = ["", "", "", "n", "r", "s", "l", "t", "nd"]
    words: list[str] = []
    while len(words) < count:
        word = "".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(rng.choice((2, 2, 3))))
        if word not in found:
            found[word] = None
            words.append(word)
    return words


TAIL = _tail_words()
# Share of all words drawn from each class; each class is Zipf-distributed inside.
SHARES = ((COMMON, 0.62, 8), (TAIL, 0.22, 50), (DOMAIN, 0.035, 10), (STATES, 0.004, 5), (RARE, 0.0004, 1000))


class Writer:
    """Sentences and paragraphs from a Zipf-weighted vocabulary, leaning on a thread's topic words."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words, weights = [], []
        for words, share, offset in SHARES:
            raw = [1.0 / (rank + offset) for rank in range(len(words))]
            total = sum(raw)
            self.words += words
            weights += [share * w / total for w in raw]
        self.cumulative = list(itertools.accumulate(weights))

    def sentence(self, topic: list[str]) -> str:
        words = self.rng.choices(self.words, cum_weights=self.cumulative, k=self.rng.randint(6, 22))
        for _ in range(len(words) // 9):
            words[self.rng.randrange(len(words))] = self.rng.choice(topic)  # threads stay on their subject
        text = " ".join(words)
        return text[0].upper() + text[1:] + self.rng.choice((".", ".", ".", "?", "!"))

    def paragraph(self, topic: list[str]) -> str:
        words = " ".join(self.sentence(topic) for _ in range(self.rng.randint(2, 7))).split(" ")
        return _wrap(words, 72)

    def text(self, low: int, high: int, topic: list[str]) -> str:
        """Paragraphs until the text is about low..high characters long."""
        target, parts = self.rng.randint(low, high), []
        while sum(map(len, parts)) < target:
            parts.append(self.paragraph(topic))
        return "\n\n".join(parts)


@dataclass
class Person:
    name: str
    address: str
    signature: str


@dataclass
class Thread:
    number: int
    subject: str
    size: int  # how many posts it will get
    topic: list[str]  # domain words its posts keep coming back to
    posts: list[Post] = field(default_factory=list)


def _ascii(name: str) -> str:
    """A plausible mailbox local part for a display name: José Núñez -> jose.nunez."""
    folded = name.lower().translate(str.maketrans({"ł": "l", "þ": "th", "ø": "o", "ß": "ss"}))
    folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]+", ".", folded).strip(".")


def people(rng: random.Random, count: int = 300) -> list[Person]:
    """`count` distinct senders with display names, addresses and signatures."""
    found: dict[str, Person] = {}
    while len(found) < count:
        first = rng.choice(FIRST_ACCENTED if rng.random() < 0.08 else FIRST)  # some non-ASCII names
        name = f"{first} {rng.choice(LAST_ACCENTED if rng.random() < 0.05 else LAST)}"
        address = f"{_ascii(name)}{rng.choice(('', '', str(rng.randint(1, 99))))}@{rng.choice(DOMAINS)}"
        phone = f"({rng.randint(200, 989)}) 555-{rng.randint(1000, 9999)}"
        signature = rng.choice(SIGNATURES).format(name=name, org=rng.choice(ORGS), phone=phone)
        found.setdefault(address, Person(name, address, signature))
    return list(found.values())


class Generator:
    """A list's traffic: threads open, collect replies and close, in date order."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.writer = Writer(self.rng)
        self.people = people(self.rng)
        self.open: list[Thread] = []
        self.threads = 0

    def posts(self, count: int) -> Iterator[Post]:
        clock, gap = float(START), SPAN / max(count, 1)
        for n in range(count):
            clock += self.rng.expovariate(1 / gap)
            yield self._post(n, clock)

    def _post(self, n: int, clock: float) -> Post:
        if not self.open or self.rng.random() < 0.18 or len(self.open) > 200:
            thread = self._new_thread()
        else:
            thread = self.rng.choice(self.open)
        parent = self._parent(thread)
        post = self._write(n, clock, self.rng.choice(self.people), thread, parent)
        thread.posts.append(post)
        if len(thread.posts) >= thread.size:
            self.open.remove(thread)
        return post

    def _new_thread(self) -> Thread:
        if len(self.open) > 200:
            self.open.pop(0)
        topic = self.rng.sample(DOMAIN, 6)
        subject = self.rng.choice(TOPICS).format(w=topic[0], x=topic[1], s=self.rng.choice(STATES))
        self.threads += 1
        size = min(30, 1 + int(self.rng.expovariate(1 / 5)))
        thread = Thread(self.threads, subject[0].upper() + subject[1:], size, topic)
        self.open.append(thread)
        return thread

    def _parent(self, thread: Thread) -> Post | None:
        if not thread.posts:
            return None
        return thread.posts[-1] if self.rng.random() < 0.7 else self.rng.choice(thread.posts)

    def _write(self, n: int, clock: float, who: Person, thread: Thread, parent: Post | None) -> Post:
        own = self.writer.text(*((1500, 4000) if parent is None else (600, 2200)), thread.topic)
        body = own if parent is None else self._reply_body(own, who, parent)
        body += f"\n\n-- \n{who.signature}" if parent is None else ""
        post = Post(
            message_id=f"{n:07d}.{self.rng.getrandbits(40):010x}@{who.address.partition('@')[2]}",
            date=clock, sender=who.address, sender_name=who.name,
            subject=thread.subject if parent is None else self.rng.choice(("Re: ", "Re: ", "RE: ")) + thread.subject,
            in_reply_to=parent.message_id if parent else "",
            refs=(parent.refs[-9:] + [parent.message_id]) if parent else [],
            own_text=own, body_text=body, thread=thread.number, html=self.rng.random() < 0.05,
        )
        if self.rng.random() < 0.03:
            post.attachments = [self._attachment(clock) for _ in range(self.rng.randint(1, 2))]
        return post

    def _reply_body(self, own: str, who: Person, parent: Post) -> str:
        when = time.strftime("%a, %b %d, %Y at %H:%M", time.gmtime(parent.date))
        quoted = "\n".join("> " + line if line else ">" for line in parent.own_text[:1400].splitlines())
        attribution = f"On {when}, {parent.sender_name} <{parent.sender}> wrote:\n{quoted}"
        signature = f"-- \n{who.signature}"
        if self.rng.random() < 0.5:  # bottom-posting below the quote
            return f"{attribution}\n\n{own}\n\n{signature}"
        return f"{own}\n\n{signature}\n\n{attribution}"  # top-posting above it

    def _attachment(self, clock: float) -> tuple[str, bytes]:
        year = time.gmtime(clock).tm_year
        name = f"{self.rng.choice(DOMAIN)}_{self.rng.choice(('report', 'records', 'cv', 'notes'))}_{year}"
        return name + self.rng.choice((".pdf", ".pdf", ".docx")), self.rng.randbytes(self.rng.randint(800, 2400))


def generate(count: int = 100_000, seed: int = 1) -> Iterator[Post]:
    """`count` posts in date order; the same seed always gives the same posts."""
    return Generator(seed).posts(count)


_FROM_LINE = re.compile(rb"^(>*From )", re.MULTILINE)


def mbox_entry(post: Post) -> bytes:
    """One mbox entry: the From_ line, the message with From_ lines escaped (mboxrd), a blank line."""
    envelope = f"From {post.sender} {time.asctime(time.gmtime(post.date))}\n".encode()
    return envelope + _FROM_LINE.sub(rb">\1", post.to_bytes()) + b"\n\n"


def write_mbox(out: IO[bytes], count: int, seed: int) -> int:
    """Write `count` posts to out as they are generated; returns the bytes written."""
    written = 0
    for post in generate(count, seed):
        written += out.write(mbox_entry(post))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the mbox file to write")
    parser.add_argument("--count", type=int, default=100_000, help="number of messages (default 100000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args()
    start = time.perf_counter()
    with open(args.out, "wb") as out:
        size = write_mbox(out, args.count, args.seed)
    elapsed = time.perf_counter() - start
    print(f"wrote {args.count} messages, {size / 1e6:.1f} MB, to {args.out} in {elapsed:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
