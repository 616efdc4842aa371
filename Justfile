# ddc development recipes (https://github.com/casey/just). Each recipe is also a plain command.
venv := ".venv"
py := venv + "/bin/python"

# Create the virtual environment and install ddc with test extras
install:
    python3 -m venv {{venv}}
    {{py}} -m pip install -q --upgrade pip
    {{py}} -m pip install -q -e ".[test]"

# Run the test suite
test *args:
    {{py}} -m pytest -q {{args}}

# Lint and type-check
lint:
    {{py}} -m ruff check ddc tests benchmarks
    {{py}} -m ruff format --check ddc tests benchmarks

# Regenerate the committed JSON Schema
schema:
    {{py}} -m ddc schema -o schemas/ddc.schema.json

# Run the benchmarks (figures are printed, not asserted)
bench:
    {{py}} benchmarks/bench_cli.py
    {{py}} benchmarks/bench_engine.py
    {{py}} benchmarks/bench_llm.py
    {{py}} benchmarks/editor_baseline.py

# Regenerate the CLI reference (a test checks it is current)
docs:
    {{py}} -m ddc.cli.reference > docs/cli.md

# Run the offline example end to end
example:
    {{py}} -m ddc run examples/people.ddc.yaml -o out
