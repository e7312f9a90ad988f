#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""plot.py - charts of a `make bench` run, as plain SVG (no extra packages).

usage: tools/bench/plot.py --out DIR --name NAME BENCH.txt [ALLOC.txt]

Reads the guest output of tools/bench/bench.sh (as the Makefile saves it in
build/bench/) and writes:

  DIR/latency-cdf-NAME.svg  the cumulative distribution of the round trip
                            of a null invoke and of a 4 B echo, QDA and
                            fastrpc.ko (solid), with the mock DSP's share of
                            the same calls (dashed): the horizontal gap
                            between a solid line and its dashed one is the
                            driver's overhead at that percentile; the
                            samples of all rounds pooled (every round times
                            as many calls per driver, so each weighs alike);
  DIR/scaling-NAME.svg      null-invoke calls/s from 1, 2, 4 and 8 threads
                            of one process and from 4 processes, both
                            drivers side by side: the median of the rounds
                            with a figure, a whisker from the smallest to
                            the largest round.

bench.sh prints "== round R/N: <driver>" before each half; the lines
after it belong to round R (without such lines, all to round 1).

Then prints their paths, and the allocation counts of ALLOC.txt (the short
debug-kernel boot after a prod one) when given. Exits non-zero when the
bench output has none of the samples or scaling lines.
"""

import argparse
import math
import os
import re
import sys

DRIVERS = ("qda", "fastrpc")
COLOURS = {"qda": "#1f5fbf", "fastrpc": "#d9731a"}
CDF_PANELS = ("invoke null", "invoke echo 4B")
SCALE_ORDER = ("1 thread", "2 threads", "4 threads", "8 threads",
               "4 processes")

RAW = re.compile(r"^raw (qda|fastrpc) (.+?): (.*)$")
SCALE = re.compile(r"^(qda|fastrpc) null invoke (.+?): ([0-9.]+) calls/s")
ALLOC = re.compile(r"^(qda|fastrpc) allocs (.+?): (\d+) allocations/call")
TRACE = re.compile(r"^trace (qda|fastrpc) (.+?) #(\d+): (.*)$")
RUST_ALLOC = re.compile(r"kernel::alloc::|kernel::sync::arc::|"
                        r"Allocator>::|::Kmalloc|::KVmalloc|::Vmalloc")

BASIC = {"a": "i8", "b": "bool", "c": "char", "d": "f64", "e": "str",
         "f": "f32", "h": "u8", "i": "isize", "j": "usize", "l": "i32",
         "m": "u32", "n": "i128", "o": "u128", "s": "i16", "t": "u16",
         "u": "()", "v": "...", "x": "i64", "y": "u64", "z": "!",
         "p": "_"}


class V0:
    """A Rust v0 symbol ("_R..."), demangled without generic arguments."""

    def __init__(self, sym):
        self.s, self.i = sym, 0

    def peek(self):
        return self.s[self.i] if self.i < len(self.s) else ""

    def eat(self, c):
        if self.peek() == c:
            self.i += 1
            return True
        return False

    def b62(self):
        if self.eat("_"):
            return 0
        v = 0
        while not self.eat("_"):
            c = self.peek()
            if not c:
                raise ValueError
            self.i += 1
            v = v * 62 + ("0123456789abcdefghijklmnopqrstuvwxyz"
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ").index(c)
        return v + 1

    def ident(self):
        if self.eat("s"):
            self.b62()
        self.eat("u")
        j = self.i
        while self.peek().isdigit():
            self.i += 1
        n = int(self.s[j:self.i])
        self.eat("_")
        name = self.s[self.i:self.i + n]
        self.i += n
        return name

    def backref(self, f):
        pos = self.b62() + 2
        save, self.i = self.i, pos
        try:
            return f()
        finally:
            self.i = save

    def path(self):
        c = self.peek()
        self.i += 1
        if c == "C":
            return self.ident()
        if c == "N":
            ns = self.peek()
            self.i += 1
            parent = self.path()
            name = self.ident()
            if ns == "C":
                return f"{parent}::{{closure}}"
            if ns.isupper() and not name:
                return f"{parent}::{{{ns}}}"
            return f"{parent}::{name}" if name else parent
        if c == "M":
            if self.eat("s"):
                self.b62()
            self.path()
            return f"<{self.type()}>"
        if c == "X":
            if self.eat("s"):
                self.b62()
            self.path()
            t = self.type()
            return f"<{t} as {self.path()}>"
        if c == "Y":
            t = self.type()
            return f"<{t} as {self.path()}>"
        if c == "I":
            p = self.path()
            while not self.eat("E"):
                self.generic()
            return p
        if c == "B":
            return self.backref(self.path)
        raise ValueError

    def generic(self):
        if self.eat("L"):
            self.b62()
        elif self.eat("K"):
            self.const()
        else:
            self.type()

    def const(self):
        if self.eat("p"):
            return
        if self.eat("B"):
            self.backref(self.const)
            return
        self.type()
        self.eat("n")
        while not self.eat("_"):
            if not self.peek():
                raise ValueError
            self.i += 1

    def type(self):
        c = self.peek()
        if c in BASIC:
            self.i += 1
            return BASIC[c]
        self.i += 1
        if c in "RQ":
            if self.eat("L"):
                self.b62()
            return ("&" if c == "R" else "&mut ") + self.type()
        if c in "PO":
            return ("*const " if c == "P" else "*mut ") + self.type()
        if c == "A":
            t = self.type()
            self.const()
            return f"[{t}; _]"
        if c == "S":
            return f"[{self.type()}]"
        if c == "T":
            ts = []
            while not self.eat("E"):
                ts.append(self.type())
            return "(" + ", ".join(ts) + ")"
        if c == "F":
            if self.eat("G"):
                self.b62()
            self.eat("U")
            if self.eat("K"):
                if not self.eat("C"):
                    self.ident()
            while not self.eat("E"):
                self.type()
            self.type()
            return "fn(..)"
        if c == "D":
            if self.eat("G"):
                self.b62()
            traits = []
            while not self.eat("E"):
                traits.append(self.path())
                while self.eat("p"):
                    self.ident()
                    self.type()
            if self.eat("L"):
                self.b62()
            return "dyn " + " + ".join(traits)
        if c == "B":
            return self.backref(self.type)
        self.i -= 1
        return self.path()


def demangle(sym):
    """A kernel stack frame's symbol, with Rust v0 names demangled (the
    qda crate's own paths without their "qda::")."""
    base = sym.split(".")[0]
    if not base.startswith("_R"):
        return sym
    try:
        v = V0(base)
        v.i = 2
        while v.peek().isdigit():
            v.i += 1
        name = v.path()
    except (ValueError, IndexError):
        return sym
    return name.replace("qda::", "")


KERNEL = re.compile(r"^== qda / fastrpc \(kernel (.*)\)")
ROUND = re.compile(r"^== round (\d+)/(\d+): (qda|fastrpc)$")


def parse(path):
    """The figures of one saved output: raw samples pooled over the rounds
    ({(driver, what): [µs, ...]}), calls/s per round ({(driver, config):
    {round: calls/s}}), allocation counts, the kernel and the traces."""
    raw, scale, alloc, kernel, trace = {}, {}, {}, None, []
    rnd = 1
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = ROUND.match(line)
            if m:
                rnd = int(m[1])
                continue
            m = RAW.match(line)
            if m:
                raw.setdefault((m[1], m[2]), []).extend(
                    float(v) for v in m[3].split())
                continue
            m = SCALE.match(line)
            if m:
                scale.setdefault((m[1], m[2]), {})[rnd] = float(m[3])
                continue
            m = ALLOC.match(line)
            if m:
                alloc[(m[1], m[2])] = int(m[3])
                continue
            m = TRACE.match(line)
            if m:
                frames = [demangle(f) for f in m[4].split(" < ")]
                # The kernel crate's allocation wrappers say nothing.
                while len(frames) > 1 and RUST_ALLOC.search(frames[0]):
                    frames.pop(0)
                trace.append((m[1], m[2], int(m[3]), frames))
                continue
            m = KERNEL.match(line)
            if m:
                kernel = m[1]
    for v in raw.values():
        v.sort()
    return raw, scale, alloc, kernel, trace


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def esc(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def nice_step(span, n=5):
    """A round tick step giving about @n ticks over @span."""
    if span <= 0:
        return 1
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def fmt_num(v):
    if v >= 1e6:
        return f"{v / 1e6:g}M"
    if v >= 1e4:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


class Svg:
    def __init__(self, w, h):
        self.w, self.h, self.items = w, h, []

    def add(self, s):
        self.items.append(s)

    def text(self, x, y, s, size=12, anchor="start", weight="normal",
             rotate=None):
        tr = f' transform="rotate({rotate} {x:.1f} {y:.1f})"' if rotate else ""
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" '
                 f'text-anchor="{anchor}" font-weight="{weight}"{tr}>'
                 f'{esc(s)}</text>')

    def line(self, x1, y1, x2, y2, colour="#000", width=1, dash=None):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" '
                 f'y2="{y2:.1f}" stroke="{colour}" stroke-width="{width}"{d}/>')

    def poly(self, pts, colour, width=2, dash=None):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        p = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        self.add(f'<polyline points="{p}" fill="none" stroke="{colour}" '
                 f'stroke-width="{width}"{d}/>')

    def rect(self, x, y, w, h, colour):
        self.add(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
                 f'height="{h:.1f}" fill="{colour}"/>')

    def write(self, path):
        with open(path, "w") as f:
            f.write(f'<svg xmlns="http://www.w3.org/2000/svg" '
                    f'width="{self.w}" height="{self.h}" '
                    f'viewBox="0 0 {self.w} {self.h}" '
                    f'font-family="sans-serif">\n'
                    f'<rect width="100%" height="100%" fill="#fff"/>\n')
            f.write("\n".join(self.items))
            f.write("\n</svg>\n")


def ticks(top, step):
    """0, @step, 2 @step, ... up to @top."""
    return [i * step for i in range(int(top / step + 0.5) + 1)]


def axes(svg, x0, y0, w, h, ylabel, ydx):
    """The two axes of a chart of @w by @h at (@x0, @y0), and the label
    of its y axis, @ydx left of it."""
    svg.line(x0, y0 + h, x0 + w, y0 + h)
    svg.line(x0, y0, x0, y0 + h)
    svg.text(x0 - ydx, y0 + h / 2, ylabel, 12, "middle", rotate=-90)


def cdf_panel(svg, x0, y0, w, h, title, series):
    """One CDF: @series is [(label, colour, dash, sorted values)]."""
    # Up to the 99.5th percentile of the slowest series: the tail beyond
    # would squeeze the body of the curves into a corner.
    hi = max(s[min(len(s) - 1, int(len(s) * 0.995))] for *_, s in series)
    step = nice_step(hi)
    hi = math.ceil(hi / step) * step
    sx = lambda v: x0 + min(v, hi) / hi * w
    sy = lambda p: y0 + h - p * h
    svg.text(x0 + w / 2, y0 - 10, title, 14, "middle", "bold")
    for p in ticks(1, 0.2):
        svg.line(x0, sy(p), x0 + w, sy(p), "#ddd")
        svg.text(x0 - 6, sy(p) + 4, f"{p:.1f}", 11, "end")
    for t in ticks(hi, step):
        svg.line(sx(t), y0, sx(t), y0 + h, "#eee")
        svg.text(sx(t), y0 + h + 16, f"{t:g}", 11, "middle")
    axes(svg, x0, y0, w, h, "fraction of calls ≤ x", 36)
    svg.text(x0 + w / 2, y0 + h + 34, "latency (µs)", 12, "middle")
    for _, colour, dash, s in series:
        n = len(s)
        pts = [(sx(0), sy(0))]
        # At most ~400 points per curve.
        stride = max(1, n // 400)
        for i in range(0, n, stride):
            pts.append((sx(s[i]), sy((i + 1) / n)))
        pts.append((sx(s[-1]), sy(1.0)))
        svg.poly(pts, colour, 2, dash)
    ly = y0 + h - 16 * len(series) - 8
    for i, (label, colour, dash, s) in enumerate(series):
        yy = ly + 16 * i
        svg.line(x0 + w - 190, yy, x0 + w - 160, yy, colour, 2, dash)
        p50 = s[len(s) // 2]
        svg.text(x0 + w - 154, yy + 4, f"{label} (p50 {p50:.1f})", 11)


def plot_cdf(raw, path, name, rounds):
    panels = [p for p in CDF_PANELS
              if any((d, p) in raw for d in DRIVERS)]
    if not panels:
        return False
    pw, ph = 460, 320
    svg = Svg(70 + len(panels) * (pw + 80), ph + 120)
    pooled = f", {rounds} rounds pooled" if rounds > 1 else ""
    svg.text(20, 24, f"Round-trip latency CDF ({name}{pooled}): solid = "
             "round trip, dashed = mock DSP share", 14, weight="bold")
    for i, panel in enumerate(panels):
        series = []
        for d in DRIVERS:
            if (d, panel) in raw:
                series.append((f"{d}", COLOURS[d], None, raw[(d, panel)]))
            if (d, panel + " dsp") in raw:
                series.append((f"{d} DSP share", COLOURS[d], "6,4",
                               raw[(d, panel + " dsp")]))
        cdf_panel(svg, 80 + i * (pw + 80), 60, pw, ph, panel, series)
    svg.write(path)
    return True


def plot_scaling(scale, path, name, rounds):
    """Bars of the median calls/s of the rounds, whiskers from the
    smallest to the largest round; "k/n" under a bar when only k of the n
    rounds had a figure (fastrpc.ko out of context ids)."""
    cats = [c for c in SCALE_ORDER
            if any(scale.get((d, c)) for d in DRIVERS)]
    if not cats:
        return False
    w, h, x0, y0 = 620, 320, 80, 60
    svg = Svg(x0 + w + 40, y0 + h + 80)
    of = f", median of {rounds} rounds" if rounds > 1 else ""
    svg.text(20, 24, f"Null invokes per second vs callers ({name}{of})", 14,
             weight="bold")
    top = max(v for r in scale.values() for v in r.values())
    step = nice_step(top)
    top = math.ceil(top * 1.1 / step) * step
    sy = lambda v: y0 + h - v / top * h
    for t in ticks(top, step):
        svg.line(x0, sy(t), x0 + w, sy(t), "#ddd")
        svg.text(x0 - 6, sy(t) + 4, fmt_num(t), 11, "end")
    axes(svg, x0, y0, w, h, "calls/s (all callers)", 56)
    gw = w / len(cats)
    bw = gw * 0.35
    for i, c in enumerate(cats):
        gx = x0 + i * gw + gw / 2
        svg.text(gx, y0 + h + 18, c, 12, "middle")
        for j, d in enumerate(DRIVERS):
            r = scale.get((d, c))
            if not r:
                continue
            v = median(r.values())
            bx = gx - bw + j * bw
            svg.rect(bx, sy(v), bw - 2, y0 + h - sy(v), COLOURS[d])
            lo, hi = min(r.values()), max(r.values())
            cx = bx + (bw - 2) / 2
            if hi > lo:
                svg.line(cx, sy(lo), cx, sy(hi), "#000")
                svg.line(cx - 4, sy(lo), cx + 4, sy(lo), "#000")
                svg.line(cx - 4, sy(hi), cx + 4, sy(hi), "#000")
            base = scale.get((d, "1 thread"))
            lab = fmt_num(round(v))
            if base and c != "1 thread":
                lab += f" ({v / median(base.values()):.2f}×)"
            svg.text(bx + bw / 2, sy(hi) - 4, lab, 9, "middle")
            if len(r) < rounds:
                svg.text(bx + bw / 2, y0 + h - 4, f"{len(r)}/{rounds}", 9,
                         "middle")
    for j, d in enumerate(DRIVERS):
        svg.rect(x0 + w - 150, y0 + 6 + 18 * j, 12, 12, COLOURS[d])
        svg.text(x0 + w - 132, y0 + 16 + 18 * j, d, 12)
    svg.text(x0 + w / 2, y0 + h + 44, "(× = relative to 1 thread of the "
             "same driver; whiskers: smallest to largest round; mock DSP "
             "with 8 workers)", 11, "middle")
    svg.write(path)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    raw, scale, alloc, kernel, trace = {}, {}, {}, None, []
    for f in args.files:
        try:
            r, s, a, k, t = parse(f)
        except OSError as e:
            print(f"plot: {f}: {e.strerror}", file=sys.stderr)
            return 1
        raw.update(r)
        scale.update(s)
        alloc.update(a)
        trace += t
        kernel = kernel or k
    label = f"{args.name}, kernel {kernel}" if kernel else args.name
    # Rounds of the bench output: the most any figure was measured in.
    rounds = max((max(r) for r in scale.values() if r), default=1)
    ok = True
    for plot, data, base, what, missing in (
            (plot_cdf, raw, "latency-cdf", "latency CDF",
             "no raw samples: no CDF"),
            (plot_scaling, scale, "scaling", "scaling chart",
             "no scaling figures: no chart")):
        path = os.path.join(args.out, f"{base}-{args.name}.svg")
        if plot(data, path, label, rounds):
            print(f"{what}: {path}")
        else:
            print(f"plot: {missing} in the bench output", file=sys.stderr)
            ok = False
    if alloc:
        print("allocations per call (debug kernel, fail-nth):")
        print(f"  {'call':<20} {'qda':>6} {'fastrpc':>8}")
        for what in sorted({w for _, w in alloc}):
            q = alloc.get(("qda", what), "-")
            r = alloc.get(("fastrpc", what), "-")
            print(f"  {what:<20} {q!s:>6} {r!s:>8}")
    if trace:
        print("where they are (allocator's caller < its callers):")
        for d, what, n, frames in trace:
            print(f"  {d} {what} #{n}: {' < '.join(frames[:3])}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
