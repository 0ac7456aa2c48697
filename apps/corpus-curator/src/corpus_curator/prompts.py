"""Reasoning prompts (workload C): five categories, each asking for an answer of a set length.

Prompts are built from templates, seeded numbers and the sources themselves (excerpts and
section headings), so they are deterministic for a seed and unique within a corpus.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from corpus_curator.config import PromptsConfig
from corpus_curator.errors import BuildError
from corpus_curator.segment import SourcePool, take_from_any
from demo_common.corpus import Prompt
from demo_common.tokenizer import count_tokens

CATEGORIES = ("analysis", "comparison", "math", "planning", "code")
WORDS_PER_TOKEN = 0.75  # English prose in Llama-3 tokens, to phrase the length request
EXCERPT_TOKENS = 400

_ALGORITHMS = (
    "an LRU cache whose entries also expire after a time-to-live",
    "a trie that counts how many stored words share each prefix",
    "Dijkstra's shortest paths over a weighted directed graph",
    "a token-bucket rate limiter shared by several threads",
    "an interval tree answering overlap queries",
    "a consistent-hashing ring with virtual nodes",
    "a CSV reader that handles quoted fields and embedded newlines",
    "a Bloom filter with a chosen false-positive rate",
    "a topological sort that reports the cycle when there is one",
    "A* path finding on a grid with weighted terrain",
    "a min-heap supporting decrease-key",
    "an in-memory key-value store with snapshots and rollback",
)
_PLANS = (
    "a {n}-day conference for {people} attendees with a budget of ${budget},000",
    "the migration of {n} services to a new Kubernetes cluster by a team of {people} "
    "engineers in {budget} working days",
    "a {n}-week training plan that takes {people} beginners to running a half marathon",
    "a community library for a town of {people},000 people on ${budget},000 a year for {n} years",
    "the launch of a product in {n} countries with a {people}-person team and ${budget}M",
    "an evacuation drill for a {n}-floor building with {people}0 occupants",
)
_INSTRUCTIONS = "Reason it through step by step and show your work. Aim for about {words} words."


def _math(rng: random.Random) -> str:
    choice = rng.randrange(4)
    a, b, c = rng.randint(12, 95), rng.randint(3, 19), rng.randint(2, 9)
    if choice == 0:
        return (
            f"Two trains leave stations {a * 10} km apart at the same time, heading towards "
            f"each other at {a + b} km/h and {a - b} km/h. A bird flies between them at "
            f"{(a + b) * c // 2 + 40} km/h until they meet. How far does the bird fly, and how "
            "many legs does its journey have? Solve it two different ways and compare."
        )
    if choice == 1:
        return (
            f"A bag holds {a} red, {b} blue and {c} green marbles. Three are drawn without "
            "replacement. Find the probability that all three colours appear, the expected "
            "number of red marbles, and how both change if the draws are with replacement."
        )
    if choice == 2:
        return (
            f"An investment of ${a * 1000} earns {b / 2:.1f}% a year compounded monthly, and "
            f"${c * 100} is added at the end of each month. How long until it doubles, and "
            "what would the answer be with yearly compounding? Derive the formulas you use."
        )
    return (
        f"Prove or disprove: for every integer n ≥ {c}, the number n^{b % 4 + 2} - n is "
        f"divisible by {b % 4 + 2}. Then find all n below {a} for which n^2 + {b}n + {c * a} "
        "is a perfect square."
    )


def _prompt_text(category: str, rng: random.Random, pools: list[SourcePool]) -> str:
    if category == "analysis":
        cut = take_from_any(pools, EXCERPT_TOKENS, 0.5, rng, "an excerpt for a prompt")
        return (
            f"Read this excerpt from {cut.source.title} ({cut.topic}).\n\n{cut.text}\n\n"
            "Explain its main ideas in order, identify the assumptions it rests on, and "
            "discuss two objections a careful reader could raise, with replies."
        )
    if category == "comparison":
        headings = [s.heading for p in pools for s in p.source.sections]
        if len(headings) < 2:
            return _math(rng)
        first, second = rng.sample(headings, 2)
        return (
            f"Compare {first} with {second}. Cover what each is for, how they work, where "
            "they overlap, the trade-offs between them, and when you would choose each. End "
            "with a summary table."
        )
    if category == "math":
        return _math(rng)
    if category == "planning":
        plan = rng.choice(_PLANS).format(
            n=rng.randint(2, 9), people=rng.randint(5, 400), budget=rng.randint(10, 90)
        )
        return (
            f"Draw up a detailed plan for {plan}. List the phases with dates, the risks and "
            "their mitigations, the budget by category, and how you would measure success."
        )
    algorithm = rng.choice(_ALGORITHMS)
    return (
        f"Design and implement {algorithm} in Python. Explain the design, its time and "
        "space complexity, the edge cases, and give unit tests that cover them."
    )


def make_prompts(
    config: PromptsConfig,
    pools: list[SourcePool],
    rng: random.Random,
    progress: Callable[[int], None] = lambda _: None,
) -> list[Prompt]:
    """`config.count` unique prompts, categories in seeded round-robin order."""
    order = list(CATEGORIES)
    rng.shuffle(order)
    prompts: list[Prompt] = []
    seen: set[str] = set()
    for index in range(config.count):
        category = order[index % len(order)]
        expected = rng.randint(config.min_expected_output_tokens, config.max_expected_output_tokens)
        words = max(10, round(expected * WORDS_PER_TOKEN / 10) * 10)
        for _ in range(20):
            body = _prompt_text(category, rng, pools)
            text = f"{body}\n\n{_INSTRUCTIONS.format(words=words)}"
            if text not in seen:
                break
        else:
            raise BuildError(f"cannot make {config.count} distinct {category} prompts")
        seen.add(text)
        prompts.append(
            Prompt(
                id=f"prompt-{index:04d}",
                category=category,
                text=text,
                tokens=count_tokens(text),
                expected_output_tokens=expected,
            )
        )
        progress(1)
    return prompts
