#!/usr/bin/env python3
"""A small reference for the metrics tests: sacreBLEU 2.x's corpus BLEU and chrF algorithms
re-stated in plain Python (sacreBLEU itself is not installed here), so that the C++ code is
checked against Python's own `re`, `str.lower()` and `str.split()` on random Unicode corpora.

Written from sacrebleu/metrics/{bleu,chrf,helpers,base}.py, sacrebleu/utils.py and
sacrebleu/tokenizers/tokenizer_{13a,re}.py (2.x). It is independent of the C++ code.

Usage 1: stdin is a JSON list of jobs {"hyps": [...], "ref_streams": [[...], ...],
"bleu": {...}, "chrf": {...}, "tokenize": [...]}; stdout is the JSON list of their results
(BLEU and chrF statistics and scores, the 13a tokenization of each "tokenize" string).
Usage 2: --lower IN OUT writes str.lower() of the UTF-8 file IN to OUT.
"""

import json
import math
import re
import sys
from collections import Counter

# --- tokenizer_re.py + tokenizer_13a.py -------------------------------------------------
_13A_REGEXES = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
]


def tokenize_13a(line):
    line = line.replace("<skipped>", "")
    line = line.replace("-\n", "")
    line = line.replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"')
        line = line.replace("&amp;", "&")
        line = line.replace("&lt;", "<")
        line = line.replace("&gt;", ">")
    line = f" {line} "
    for regex, repl in _13A_REGEXES:
        line = regex.sub(repl, line)
    return " ".join(line.strip().split())


# --- BLEU -------------------------------------------------------------------------------
def my_log(num):
    return -9999999999 if num == 0.0 else math.log(num)


def word_ngrams(line, max_order):
    tokens = line.split()
    grams = []
    for n in range(1, max_order + 1):
        for i in range(0, len(tokens) - n + 1):
            grams.append(tuple(tokens[i:i + n]))
    return Counter(grams), len(tokens)


def bleu_preprocess(sent, opts):
    if opts["lowercase"]:
        sent = sent.lower()
    sent = sent.rstrip()
    return tokenize_13a(sent) if opts["tokenize"] == "13a" else sent


def closest_ref_len(hyp_len, ref_lens):
    closest_diff, closest_len = -1, -1
    for ref_len in ref_lens:
        diff = abs(hyp_len - ref_len)
        if closest_diff == -1 or diff < closest_diff:
            closest_diff, closest_len = diff, ref_len
        elif diff == closest_diff and ref_len < closest_len:
            closest_len = ref_len
    return closest_len


def compute_bleu(correct, total, sys_len, ref_len, opts):
    method = opts["smooth"]
    value = opts.get("smooth_value")
    if value is None:
        value = {"floor": 0.1, "add-k": 1}.get(method)
    order = opts["max_order"]
    bp = (math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0) if sys_len < ref_len else 1.0
    precisions = [0.0] * order
    if not any(correct):
        return 0.0, precisions, bp
    correct, total = list(correct), list(total)
    smooth_mteval, eff_order = 1.0, order
    for n in range(1, order + 1):
        if method == "add-k" and n > 1:
            correct[n - 1] += value
            total[n - 1] += value
        if total[n - 1] == 0:
            break
        if opts["effective_order"]:
            eff_order = n
        if correct[n - 1] == 0:
            if method == "exp":
                smooth_mteval *= 2
                precisions[n - 1] = 100.0 / (smooth_mteval * total[n - 1])
            elif method == "floor":
                precisions[n - 1] = 100.0 * value / total[n - 1]
        else:
            precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1]
    score = bp * math.exp(sum([my_log(p) for p in precisions[:eff_order]]) / eff_order)
    return score, precisions, bp


def corpus_bleu(hyps, ref_streams, opts):
    order = opts["max_order"]
    sys_len = ref_len = 0
    correct, total = [0] * order, [0] * order
    for i, hyp in enumerate(hyps):
        refs = [stream[i] for stream in ref_streams if stream[i] != ""]
        assert refs, "empty reference"
        ref_ngrams, ref_lens = None, []
        for ref in refs:
            grams, length = word_ngrams(bleu_preprocess(ref, opts), order)
            ref_lens.append(length)
            if ref_ngrams is None:
                ref_ngrams = grams
            else:
                for gram, count in grams.items():
                    ref_ngrams[gram] = max(ref_ngrams[gram], count)
        hyp_grams, hyp_len = word_ngrams(bleu_preprocess(hyp, opts), order)
        sys_len += hyp_len
        ref_len += closest_ref_len(hyp_len, ref_lens)
        for gram, count in hyp_grams.items():
            total[len(gram) - 1] += count
            if gram in ref_ngrams:
                correct[len(gram) - 1] += min(count, ref_ngrams[gram])
    score, precisions, bp = compute_bleu(correct, total, sys_len, ref_len, opts)
    return {"score": score, "precisions": precisions, "bp": bp, "counts": correct,
            "totals": total, "sys_len": sys_len, "ref_len": ref_len}


# --- chrF -------------------------------------------------------------------------------
_PUNCTS = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def remove_punctuation(sent):
    out = []
    for w in sent.split():
        if len(w) == 1:
            out.append(w)
        elif w[-1] in _PUNCTS:
            out += [w[:-1], w[-1]]
        elif w[0] in _PUNCTS:
            out += [w[0], w[1:]]
        else:
            out.append(w)
    return out


def chrf_ngrams(sent, opts):
    if opts["lowercase"]:
        sent = sent.lower()
    chars = sent if opts["whitespace"] else "".join(sent.split())
    counters = [Counter([chars[i:i + n] for i in range(len(chars) - n + 1)])
                for n in range(1, opts["char_order"] + 1)]
    words = remove_punctuation(sent)
    for n in range(1, opts["word_order"] + 1):
        counters.append(Counter([" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]))
    return counters


def chrf_f_score(stats, opts):
    eps, factor = 1e-16, opts["beta"] ** 2
    score, eff, avg_prec, avg_rec = 0.0, 0, 0.0, 0.0
    for i in range(opts["char_order"] + opts["word_order"]):
        n_hyp, n_ref, n_match = stats[3 * i:3 * i + 3]
        prec = n_match / n_hyp if n_hyp > 0 else eps
        rec = n_match / n_ref if n_ref > 0 else eps
        denom = factor * prec + rec
        score += ((1 + factor) * prec * rec / denom) if denom > 0 else eps
        if n_hyp > 0 and n_ref > 0:
            avg_prec += prec
            avg_rec += rec
            eff += 1
    if opts["eps_smoothing"]:
        return 100 * score / (opts["char_order"] + opts["word_order"])
    if eff == 0:
        avg_prec = avg_rec = 0.0
    else:
        avg_prec /= eff
        avg_rec /= eff
    if avg_prec + avg_rec:
        score = (1 + factor) * avg_prec * avg_rec
        score /= (factor * avg_prec) + avg_rec
        return 100 * score
    return 0.0


def corpus_chrf(hyps, ref_streams, opts):
    order = opts["char_order"] + opts["word_order"]
    corpus = [0] * (3 * order)
    for i, hyp in enumerate(hyps):
        hyp_ngrams = chrf_ngrams(hyp, opts)
        best_stats, best_f = [], -1.0
        for ref in [stream[i] for stream in ref_streams if stream[i] != ""]:
            stats = []
            for h, r in zip(hyp_ngrams, chrf_ngrams(ref, opts)):
                match = sum(min(c, r[g]) for g, c in h.items() if g in r)
                stats += [sum(h.values()) if r else 0, sum(r.values()), match]
            f = chrf_f_score(stats, opts)
            if f > best_f:
                best_f, best_stats = f, stats
        corpus = [a + b for a, b in zip(corpus, best_stats)]
    return {"score": chrf_f_score(corpus, opts), "stats": corpus}


def run_job(job):
    out = {"tokenize": [tokenize_13a(s) for s in job.get("tokenize", [])]}
    if "bleu" in job:
        out["bleu"] = corpus_bleu(job["hyps"], job["ref_streams"], job["bleu"])
    if "chrf" in job:
        out["chrf"] = corpus_chrf(job["hyps"], job["ref_streams"], job["chrf"])
    return out


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--lower":
        with open(sys.argv[2], "rb") as f:
            text = f.read().decode("utf-8")
        with open(sys.argv[3], "wb") as f:
            f.write(text.lower().encode("utf-8"))
        return
    jobs = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    json.dump([run_job(job) for job in jobs], sys.stdout, ensure_ascii=True)


if __name__ == "__main__":
    main()
