"""Drain3 on the corpus that crates/sdd-debugger/benches/drain.rs writes (scripts/bench-drain.sh).

Usage: bench_drain3.py CORPUS [SIM_TH]

Mines CORPUS (one line each) with Drain3's TemplateMiner, configured as the Rust miner's
defaults are: depth 4, similarity 0.4, 100 children, no cluster bound, numeric tokens to the
wildcard child, and masking instructions that mask what the Rust miner masks (UUIDs, 0x hex,
IPv4 with an optional port, ids of 8+ hex digits with a digit, numbers) with one placeholder,
so a masked token equals another masked token in both. Reads the planted labels from
CORPUS.labels and prints one row: tool, lines/s, MB/s, templates, grouping accuracy (LogPAI's:
a line is right when its cluster holds exactly the lines of its planted template). The time
covers add_log_message over the lines already in memory, as the Rust figure does.
"""

import collections
import sys
import time

from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

BEFORE = r"((?<=[^A-Za-z0-9])|^)"
AFTER = r"((?=[^A-Za-z0-9])|$)"
MASKS = [
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    r"0[xX][0-9a-fA-F]+",
    r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(:\d+)?",
    r"(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}",
    r"[\-\+]?\d+([.,]\d+)*",
]


def grouping_accuracy(truth, predicted):
    truth_size = collections.Counter(truth)
    groups = collections.defaultdict(collections.Counter)
    for t, p in zip(truth, predicted):
        groups[p][t] += 1
    correct = 0
    for members in groups.values():
        if len(members) == 1:
            (label, size), = members.items()
            if truth_size[label] == size:
                correct += size
    return correct / len(truth) if truth else 1.0


def main():
    corpus = sys.argv[1]
    sim_th = float(sys.argv[2]) if len(sys.argv) > 2 else 0.4
    with open(corpus, encoding="utf-8") as f:
        lines = f.read().splitlines()
    with open(corpus + ".labels", encoding="utf-8") as f:
        labels = [int(x) for x in f.read().split()]

    config = TemplateMinerConfig()
    config.drain_depth = 4
    config.drain_sim_th = sim_th
    config.drain_max_children = 100
    config.drain_max_clusters = None
    config.parametrize_numeric_tokens = True
    config.profiling_enabled = False
    config.masking_instructions = [MaskingInstruction(BEFORE + "(" + m + ")" + AFTER, "V") for m in MASKS]
    miner = TemplateMiner(config=config)

    ids = []
    start = time.perf_counter()
    for line in lines:
        ids.append(miner.add_log_message(line)["cluster_id"])
    elapsed = time.perf_counter() - start

    size = sum(len(line.encode("utf-8")) + 1 for line in lines)
    print(
        f"{'drain3':<14} {len(lines) / elapsed:>12.0f} {size / 1e6 / elapsed:>10.1f} "
        f"{len(miner.drain.clusters):>10} {grouping_accuracy(labels, ids):>9.4f}"
    )


if __name__ == "__main__":
    main()
