# Object churn on several threads with a deterministic result: each thread
# builds, sorts and drops dicts, lists and strings; the totals are printed
# in thread order. Run with PYTHONMALLOC=malloc so that every object comes
# from malloc, not from pymalloc's arenas. The optional argument is the
# number of rounds per thread (300).
import sys
import threading

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 300
RESULTS = [None] * 4


def work(index):
    total = 0
    keep = []
    for round_ in range(ROUNDS):
        table = {f"k{index}-{round_}-{i}": [i] * (i % 7) for i in range(200)}
        words = sorted(table, key=lambda k: (len(table[k]), k))
        total += sum(len(table[w]) for w in words[:50])
        keep.append("".join(words[:3]) * (round_ % 5))
        if len(keep) > 20:
            keep = keep[10:]
    RESULTS[index] = (total, sum(len(k) for k in keep))


threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for i, result in enumerate(RESULTS):
    print(i, *result)
