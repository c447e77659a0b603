#!/bin/sh
# The live figures of the README (issue 10's goals 2, 3 and 5), each with the machine's load before and
# after it: the machine's load changes every figure, so a figure is only quoted with its `uptime`.
#   bench/live_figures.sh [redis url]     (default redis://127.0.0.1:6379/14; PostgreSQL from BENCH_PG)
# Takes about 25 minutes on an idle 2-core machine. Output: one block per benchmark, on stdout.
set -u
cd "$(dirname "$0")/.."
export BENCH_REDIS="${1:-${BENCH_REDIS:-redis://127.0.0.1:6379/14}}"
run() {
    echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC') $*"
    echo "load before: $(uptime)"
    "$@"
    echo "load after:  $(uptime)"
    echo
}
run .venv/bin/python bench/page_cpu.py --members 300 --questions 20 --requests 300
run .venv/bin/python bench/questions_bench.py --embedded --participants 500 --seconds 60
run .venv/bin/python bench/push_bench.py --participants 1000 --meetings 20 --users 200 --seconds 30
run .venv/bin/python bench/push_bench.py --participants 3000 --meetings 20 --users 600 --seconds 30
