"""The model table: adapter detection, aliases, close matches, and the prices costs use."""

from __future__ import annotations

import pytest

from zwarm_ls import costs, models
from zwarm_ls.errors import InvalidParams
from zwarm_ls.protocol import TokenUsage


@pytest.mark.parametrize(("model", "adapter"), [
    ("sonnet", "claude"), ("opus", "claude"), ("haiku", "claude"),
    ("claude-sonnet-4-5-20250929", "claude"), ("claude-3-7-something", "claude"),
    ("gpt-5.1-codex-mini", "codex"), ("mini", "codex"), ("5.2", "codex"),
    ("GPT-5.2-Codex", "codex"), ("gpt-5.3-codex", "codex"), ("o4-mini", "codex"),
    ("llama-3", None), ("", None),
])
def test_adapter_for_model(model: str, adapter: str | None) -> None:
    assert models.adapter_for_model(model) == adapter


def test_aliases_resolve_to_the_name_the_cli_takes() -> None:
    assert models.resolve("mini", None) == ("codex", "gpt-5.1-codex-mini")
    assert models.resolve("codex-max", None) == ("codex", "gpt-5.1-codex-max")
    assert models.resolve("claude-opus", None) == ("claude", "opus")
    # A precise provider name is kept as given: it says more than the family entry.
    assert models.resolve("claude-sonnet-4-5", None) == ("claude", "claude-sonnet-4-5")
    assert models.resolve(None, "claude") == ("claude", None)
    assert models.resolve(None, None) == (None, None)


def test_every_name_in_the_table_is_unique_and_every_adapter_has_one_default() -> None:
    names = [n.lower() for m in models.MODELS for n in m.names]
    assert len(names) == len(set(names))
    for adapter in models.ADAPTERS:
        assert len([m for m in models.MODELS if m.adapter == adapter and m.default]) == 1
    assert models.default_model("claude") == "sonnet"


def test_an_unknown_model_without_an_adapter_names_the_close_matches() -> None:
    with pytest.raises(models.UnknownModel) as caught:
        models.resolve("sonet", None)
    assert isinstance(caught.value, InvalidParams)
    assert "unknown model 'sonet'; did you mean sonnet" in caught.value.message
    assert "zwarm-ls models" in (caught.value.hint or "")
    # With an adapter the user takes responsibility for the name.
    assert models.resolve("my-finetune", "codex") == ("codex", "my-finetune")


def test_a_model_of_the_other_adapter_is_refused() -> None:
    with pytest.raises(models.UnknownModel, match="runs on claude, not codex"):
        models.resolve("sonnet", "codex")


def test_costs_read_prices_from_the_table() -> None:
    usage = TokenUsage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert costs.estimate_cost("mini", usage) == 0.25 + 2.00
    assert costs.estimate_cost("gpt-5-mini", usage) == 0.25 + 2.00
    assert costs.price_for("claude-opus-4-1") is models.lookup("opus").price  # type: ignore[union-attr]
    assert costs.estimate_cost("llama-3", usage) is None
