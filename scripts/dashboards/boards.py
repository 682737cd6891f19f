"""The five otel-llm dashboards: overview, release comparison, outliers, safety, tools."""

from __future__ import annotations

from dashboards.model import (
    Dashboard,
    Json,
    Link,
    Query,
    distribution,
    heatmap,
    query_variable,
    stat,
    table,
    textbox_variable,
    timeseries,
)
from dashboards.promql import (
    CALLS,
    FAILED,
    PROMPT,
    QUALITY,
    RANGE,
    SAFETY,
    SERVICE,
    increase,
    mean,
    quantile,
    rate,
    sel,
    share,
    total,
)

REQUESTS = "otel_llm_client_requests_total"
LATENCY = "gen_ai_client_inference_duration_seconds"
FIRST_CHUNK = "gen_ai_client_inference_time_to_first_chunk_seconds"
OPERATION = "gen_ai_client_operation_duration_seconds"
COST = "otel_llm_client_request_cost"
SPEND = "otel_llm_client_cost_total"
INPUT_TOKENS = "gen_ai_client_inference_usage_input_tokens_total"
OUTPUT_TOKENS = "gen_ai_client_inference_usage_output_tokens_total"
OUTPUT_TOKENS_PER_CALL = "gen_ai_client_inference_operation_output_tokens"
EVALUATIONS = "otel_llm_evaluation_results_total"
SCORE = "otel_llm_evaluation_score"
FEEDBACK = "otel_llm_feedback_received_total"
REDACTIONS = "otel_llm_redaction_findings_total"
TOOL = "gen_ai_execute_tool_duration_seconds"
INVALID_ARGUMENTS = "otel_llm_tool_invalid_arguments_total"
FALLBACKS = "otel_llm_client_fallbacks_total"
WORKFLOW = "gen_ai_invoke_workflow_duration_seconds"

PASSED = 'otel_llm_evaluation_passed="true"'
NOT_PASSED = 'otel_llm_evaluation_passed="false"'
NEGATIVE = 'otel_llm_feedback_sentiment="negative"'
PROVIDER = 'gen_ai_provider_name=~"$provider"'
PROMPT_NAME = 'gen_ai_prompt_name=~"$prompt_name"'
POLICY = 'gen_ai_evaluation_name=~"safety_.*|policy_.*"'
RETRIEVAL = 'gen_ai_operation_name="retrieval"'
TOOLS = (*SERVICE, 'gen_ai_tool_name=~"$tool"')
TOOL_FAILED = 'error_type!=""'
VERSION_A = 'gen_ai_prompt_version=~"$baseline_version"'
VERSION_B = 'gen_ai_prompt_version=~"$prompt_version"'
VERSIONS = (("A ($baseline_version)", VERSION_A), ("B ($prompt_version)", VERSION_B))
RELEASE = (*SERVICE, PROMPT_NAME, 'gen_ai_request_model=~"$model"')
CALL_GROUP = ("job", "gen_ai_request_model", "gen_ai_prompt_name", "gen_ai_prompt_version")

# Thresholds shared with the alert rules (collector-config/prometheus/rules), so a red stat
# and a firing alert mean the same thing.
ERROR_STEPS = ((None, "green"), (0.02, "red"))
LATENCY_STEPS = ((None, "green"), (8.0, "red"))
PASS_RATE_STEPS = ((None, "red"), (0.92, "green"))
THUMBS_DOWN_STEPS = ((None, "green"), (0.1, "orange"), (0.2, "red"))
COUNT_STEPS = ((None, "green"), (1.0, "red"))
TOOL_FAILURE_STEPS = ((None, "green"), (0.03, "red"))


def _service() -> Json:
    return query_variable("job", "Service", f"label_values({REQUESTS}, job)")


def _provider() -> Json:
    query = f"label_values({REQUESTS}{sel(SERVICE)}, gen_ai_provider_name)"
    return query_variable("provider", "Provider", query)


def _model() -> Json:
    query = f"label_values({REQUESTS}{sel(SERVICE, PROVIDER)}, gen_ai_request_model)"
    return query_variable("model", "Model", query)


def _prompt(*, multi: bool = True) -> Json:
    query = f"label_values({REQUESTS}{sel(SERVICE)}, gen_ai_prompt_name)"
    return query_variable("prompt_name", "Prompt", query, multi=multi)


def _prompt_version() -> Json:
    query = f"label_values({REQUESTS}{sel(SERVICE, PROMPT_NAME)}, gen_ai_prompt_version)"
    return query_variable("prompt_version", "Prompt version", query)


def _call_filters() -> list[Json]:
    return [_service(), _provider(), _model(), _prompt(), _prompt_version()]


def overview() -> Dashboard:
    """Request volume, errors, latency, cost and quality at a glance, then the distributions."""
    board = Dashboard(
        "otel-llm-overview",
        "otel-llm / Overview",
        "GenAI calls of the selected services: traffic, errors, latency, cost and quality.",
        _call_filters(),
    )
    calls = sel(CALLS)
    board.row("At a glance")
    board.add(
        stat(
            "Request volume",
            "GenAI client calls per second, every outcome.",
            Query(total(rate(REQUESTS, calls))),
            "reqps",
        ),
        5,
        5,
    )
    board.add(
        stat(
            "Error rate",
            "Share of calls that did not succeed (error, timeout, rate limited, cancelled).",
            Query(share(REQUESTS, sel(CALLS, FAILED), calls)),
            "percentunit",
            ERROR_STEPS,
        ),
        5,
        5,
    )
    board.add(
        stat(
            "p95 latency",
            "95th percentile of chat call duration (gen_ai.client.inference.duration).",
            Query(quantile(0.95, LATENCY, calls)),
            "s",
            LATENCY_STEPS,
        ),
        5,
        5,
    )
    board.add(
        stat(
            "p95 cost per call",
            "95th percentile of the priced cost of one call, in USD.",
            Query(quantile(0.95, COST, calls)),
            "currencyUSD",
        ),
        5,
        5,
    )
    board.add(
        stat(
            "Eval pass rate",
            "Share of quality evaluations that passed (safety and policy checks excluded).",
            Query(share(EVALUATIONS, sel(CALLS, QUALITY, PASSED), sel(CALLS, QUALITY))),
            "percentunit",
            PASS_RATE_STEPS,
        ),
        4,
        5,
    )

    board.row("Traffic and errors")
    board.add(
        timeseries(
            "Calls by outcome",
            "Calls per second by otel_llm.request.outcome.",
            [Query(total(rate(REQUESTS, calls), ["otel_llm_request_outcome"]))],
            "reqps",
            stacked=True,
        ),
        12,
        8,
    )
    board.add(
        timeseries(
            "Error rate by provider",
            "Share of failed calls per provider; the provider alert fires above 2 %.",
            [
                Query(
                    share(REQUESTS, sel(CALLS, FAILED), calls, ["gen_ai_provider_name"]),
                    "{{gen_ai_provider_name}}",
                )
            ],
            "percentunit",
            steps=ERROR_STEPS,
        ),
        12,
        8,
    )

    board.row("Latency")
    board.add(
        timeseries(
            "Chat latency percentiles",
            "p50, p95 and p99 of chat call duration; exemplars link to the trace in Jaeger.",
            [
                Query(quantile(q, LATENCY, calls), f"p{round(q * 100)}", exemplar=True)
                for q in (0.5, 0.95, 0.99)
            ],
            "s",
            steps=LATENCY_STEPS,
        ),
        12,
        8,
    )
    board.add(
        timeseries(
            "p95 latency by model",
            "95th percentile of chat call duration per requested model.",
            [
                Query(
                    quantile(0.95, LATENCY, calls, ["gen_ai_request_model"]),
                    "{{gen_ai_request_model}}",
                )
            ],
            "s",
        ),
        12,
        8,
    )
    board.add(
        heatmap(
            "Chat latency heatmap",
            "Calls per latency bucket over time; exemplars are individual traces.",
            Query(
                total(rate(f"{LATENCY}_bucket", calls), ["le"]),
                "{{le}}",
                format="heatmap",
                exemplar=True,
            ),
            "s",
        ),
        12,
        8,
    )
    board.add(
        distribution(
            "Chat latency histogram",
            "How many calls fell in each latency bucket over the selected range.",
            Query(
                total(increase(f"{LATENCY}_bucket", calls), ["le"]),
                "{{le}}",
                instant=True,
                format="heatmap",
            ),
        ),
        12,
        8,
    )
    board.add(
        timeseries(
            "Time to first chunk (p95)",
            "95th percentile of the wait for the first streamed chunk, per model.",
            [
                Query(
                    quantile(0.95, FIRST_CHUNK, calls, ["gen_ai_request_model"]),
                    "{{gen_ai_request_model}}",
                )
            ],
            "s",
        ),
        24,
        7,
    )

    board.row("Cost and tokens")
    board.add(
        timeseries(
            "Spend per hour by model",
            "USD per hour at the current rate, per requested model.",
            [
                Query(
                    total(rate(SPEND, calls), ["gen_ai_request_model"]) + " * 3600",
                    "{{gen_ai_request_model}}",
                )
            ],
            "currencyUSD",
            stacked=True,
        ),
        12,
        8,
    )
    board.add(
        timeseries(
            "Cost per call",
            "Median, p95 and mean priced cost of one call.",
            [
                Query(quantile(0.5, COST, calls), "p50"),
                Query(quantile(0.95, COST, calls), "p95"),
                Query(mean(COST, calls), "mean"),
            ],
            "currencyUSD",
        ),
        12,
        8,
    )
    board.add(
        heatmap(
            "Cost heatmap",
            "Calls per cost bucket over time.",
            Query(total(rate(f"{COST}_bucket", calls), ["le"]), "{{le}}", format="heatmap"),
            "currencyUSD",
        ),
        12,
        8,
    )
    board.add(
        timeseries(
            "Tokens per second",
            "Input and output tokens per second across the selected calls.",
            [
                Query(total(rate(INPUT_TOKENS, calls)), "input"),
                Query(total(rate(OUTPUT_TOKENS, calls)), "output"),
            ],
            "short",
        ),
        12,
        8,
    )

    board.row("Quality")
    board.add(
        timeseries(
            "Pass rate by evaluation",
            "Share of passed results per quality evaluation.",
            [
                Query(
                    share(
                        EVALUATIONS,
                        sel(CALLS, QUALITY, PASSED),
                        sel(CALLS, QUALITY),
                        ["gen_ai_evaluation_name"],
                    ),
                    "{{gen_ai_evaluation_name}}",
                )
            ],
            "percentunit",
            steps=PASS_RATE_STEPS,
        ),
        12,
        8,
    )
    feedback = (*SERVICE, *PROMPT)
    board.add(
        timeseries(
            "Thumbs-down rate by prompt version",
            "Share of user feedback that was negative, per prompt version.",
            [
                Query(
                    share(
                        FEEDBACK, sel(feedback, NEGATIVE), sel(feedback), ["gen_ai_prompt_version"]
                    ),
                    "{{gen_ai_prompt_version}}",
                )
            ],
            "percentunit",
            steps=THUMBS_DOWN_STEPS,
        ),
        12,
        8,
    )
    _collector_row(board)
    return board


def _collector_row(board: Dashboard) -> None:
    """The Collectors' own health (promql.COLLECTOR_SERIES): spans dropped, queues' fill."""
    by = ["job", "exporter"]
    # A counter appears only once it counts: `or 0 * sent` shows 0 for every exporter that
    # works, so "nothing dropped" is a line at zero rather than an empty panel.
    zero = "0 * " + total("otelcol_exporter_sent_spans", by)
    board.row("Collector pipeline")
    board.add(
        timeseries(
            "Spans the Collectors dropped",
            "Spans an exporter could not queue (its sending queue was full) or gave up sending "
            "after its retries, per Collector (`job`) and exporter, over the dashboard range. "
            "The agent's queue fills while the gateway is down; docs/deploy.md.",
            [
                Query(
                    f"({total(increase('otelcol_exporter_enqueue_failed_spans', ''), by)}"
                    f" or {zero})",
                    "{{job}} {{exporter}} queue full",
                ),
                Query(
                    f"({total(increase('otelcol_exporter_send_failed_spans', ''), by)} or {zero})",
                    "{{job}} {{exporter}} send failed",
                ),
            ],
            "short",
            steps=[(None, "green"), (1, "red")],
        ),
        12,
        8,
    )
    board.add(
        timeseries(
            "Collector exporter queue fill",
            "Requests waiting in each exporter's sending queue, as a share of its capacity. "
            "At 100 % new data is dropped (left panel).",
            [
                Query(
                    "max by (job, exporter) (otelcol_exporter_queue_size"
                    " / otelcol_exporter_queue_capacity)",
                    "{{job}} {{exporter}}",
                )
            ],
            "percentunit",
            steps=[(None, "green"), (0.8, "red")],
        ),
        12,
        8,
    )


def _versions(metric_expr: str, legend: str) -> list[Query]:
    """The same expression for prompt version A and B (`@V` marks where the matcher goes)."""
    return [
        Query(metric_expr.replace("@V", VERSION_A), f"A $baseline_version {legend}".strip()),
        Query(metric_expr.replace("@V", VERSION_B), f"B $prompt_version {legend}".strip()),
    ]


def release() -> Dashboard:
    """Prompt version A against version B on quality, latency and cost."""
    version = 'gen_ai_prompt_version=~"$baseline_version|$prompt_version"'
    versions_query = f"label_values({REQUESTS}{sel(SERVICE, PROMPT_NAME)}, gen_ai_prompt_version)"
    board = Dashboard(
        "otel-llm-release",
        "otel-llm / Release comparison",
        "One prompt template, version A against version B (e.g. stable against canary).",
        [
            _service(),
            _prompt(multi=False),
            # A is the baseline (first version by name), B the candidate (last by name); the
            # release-regression alert links here with var-prompt_version=<the new version>.
            query_variable(
                "baseline_version", "Version A (baseline)", versions_query, multi=False, sort=1
            ),
            query_variable(
                "prompt_version", "Version B (candidate)", versions_query, multi=False, sort=2
            ),
            query_variable(
                "model",
                "Model",
                f"label_values({REQUESTS}{sel(SERVICE)}, gen_ai_request_model)",
            ),
        ],
    )
    calls = (*RELEASE, "@V")
    feedback = (*SERVICE, PROMPT_NAME, "@V")
    board.row("Quality")
    pass_rate = share(EVALUATIONS, sel(calls, QUALITY, PASSED), sel(calls, QUALITY))
    thumbs_down = share(FEEDBACK, sel(feedback, NEGATIVE), sel(feedback))
    for label, expr in VERSIONS:
        board.add(
            stat(
                f"Eval pass rate {label}",
                "Share of quality evaluations that passed for this version.",
                Query(pass_rate.replace("@V", expr)),
                "percentunit",
                PASS_RATE_STEPS,
            ),
            6,
            5,
        )
    for label, expr in VERSIONS:
        board.add(
            stat(
                f"Thumbs-down rate {label}",
                "Share of user feedback that was negative for this version.",
                Query(thumbs_down.replace("@V", expr)),
                "percentunit",
                THUMBS_DOWN_STEPS,
            ),
            6,
            5,
        )
    board.add(
        timeseries(
            "Eval pass rate, A against B",
            "Quality evaluation pass rate over time for both versions.",
            _versions(pass_rate, ""),
            "percentunit",
            steps=PASS_RATE_STEPS,
        ),
        12,
        8,
    )
    board.add(
        table(
            "Pass rate per evaluation and version",
            "Every evaluation (quality and safety) over the range, for both versions.",
            Query(
                share(
                    EVALUATIONS,
                    sel(RELEASE, version, PASSED),
                    sel(RELEASE, version),
                    ["gen_ai_evaluation_name", "gen_ai_prompt_version"],
                    RANGE,
                ),
                instant=True,
                format="table",
            ),
            "percentunit",
            value_title="pass rate",
        ),
        12,
        8,
    )

    board.row("Latency and errors")
    board.add(
        timeseries(
            "p95 latency, A against B",
            "95th percentile of chat call duration for both versions.",
            _versions(quantile(0.95, LATENCY, sel(calls)), ""),
            "s",
            steps=LATENCY_STEPS,
        ),
        12,
        8,
    )
    board.add(
        timeseries(
            "Error rate, A against B",
            "Share of calls that did not succeed, for both versions.",
            _versions(share(REQUESTS, sel(calls, FAILED), sel(calls)), ""),
            "percentunit",
            steps=ERROR_STEPS,
        ),
        12,
        8,
    )

    board.row("Cost and traffic")
    board.add(
        timeseries(
            "p95 cost per call, A against B",
            "95th percentile of the priced cost of one call for both versions.",
            _versions(quantile(0.95, COST, sel(calls)), ""),
            "currencyUSD",
        ),
        8,
        8,
    )
    board.add(
        timeseries(
            "Output tokens per call, A against B",
            "Mean output tokens of one chat call for both versions.",
            _versions(mean(OUTPUT_TOKENS_PER_CALL, sel(calls)), ""),
            "short",
        ),
        8,
        8,
    )
    board.add(
        timeseries(
            "Traffic split",
            "Calls per second per version (the canary share).",
            [
                Query(
                    total(rate(REQUESTS, sel(RELEASE, version)), ["gen_ai_prompt_version"]),
                    "{{gen_ai_prompt_version}}",
                )
            ],
            "reqps",
            stacked=True,
        ),
        8,
        8,
    )
    return board


def _jaeger_links(*tags: str) -> list[Link]:
    """Trace searches for a table row: Jaeger in Explore, and the Jaeger UI."""
    logfmt = " ".join(f"{tag}=${{__data.fields.{tag.replace('.', '_')}}}" for tag in tags)
    pairs = ",".join(
        f"%22{tag}%22%3A%22${{__data.fields.{tag.replace('.', '_')}:percentencode}}%22"
        for tag in tags
    )
    return [
        Link(
            "Find these traces (Jaeger in Explore)",
            query={
                "limit": "20",
                "queryType": "search",
                "service": "${__data.fields.job}",
                "tags": logfmt,
            },
        ),
        Link(
            "Find these traces (Jaeger UI)",
            url=(
                "${jaeger_url}/search?service=${__data.fields.job:percentencode}"
                f"&tags=%7B{pairs}%7D&limit=20&lookback=1h"
            ),
        ),
    ]


def outliers() -> Dashboard:
    """The slowest, most expensive and lowest-scoring calls, each a trace search away."""
    board = Dashboard(
        "otel-llm-outliers",
        "otel-llm / Outliers",
        "Where the tail is: slowest, most expensive and lowest-scoring groups of calls, "
        "with trace searches in Jaeger. Tail sampling keeps every such trace.",
        [
            *_call_filters(),
            textbox_variable("jaeger_url", "Jaeger UI", "http://localhost:16686"),
        ],
    )
    calls = sel(CALLS)
    call_tags = ("gen_ai.request.model", "gen_ai.prompt.version")
    board.row("Slowest")
    board.add(
        table(
            "Slowest: p99 latency by service, model and prompt version",
            "Top 10 groups by 99th percentile chat duration over the range.",
            Query(
                f"topk(10, {quantile(0.99, LATENCY, calls, CALL_GROUP, RANGE)})",
                instant=True,
                format="table",
            ),
            "s",
            value_title="p99 latency",
            links=_jaeger_links(*call_tags),
        ),
        12,
        9,
    )
    board.add(
        timeseries(
            "Slow calls (p99, with exemplars)",
            "p99 chat duration per model; each exemplar dot opens that exact trace.",
            [
                Query(
                    quantile(0.99, LATENCY, calls, ["gen_ai_request_model"]),
                    "{{gen_ai_request_model}}",
                    exemplar=True,
                )
            ],
            "s",
            steps=LATENCY_STEPS,
        ),
        12,
        9,
    )
    board.row("Most expensive")
    board.add(
        table(
            "Most expensive: p99 cost per call",
            "Top 10 groups by 99th percentile cost of one call over the range.",
            Query(
                f"topk(10, {quantile(0.99, COST, calls, CALL_GROUP, RANGE)})",
                instant=True,
                format="table",
            ),
            "currencyUSD",
            value_title="p99 cost",
            links=_jaeger_links(*call_tags),
        ),
        12,
        9,
    )
    board.add(
        table(
            "Highest spend",
            "Top 10 groups by total spend over the range.",
            Query(
                f"topk(10, {total(increase(SPEND, calls), CALL_GROUP)})",
                instant=True,
                format="table",
            ),
            "currencyUSD",
            value_title="spend",
            links=_jaeger_links(*call_tags),
        ),
        12,
        9,
    )
    board.row("Lowest-scoring")
    score_group = ("job", "gen_ai_evaluation_name", "gen_ai_request_model", "gen_ai_prompt_version")
    board.add(
        table(
            "Lowest mean evaluation score",
            "Bottom 10 groups by mean evaluation score over the range.",
            Query(
                f"bottomk(10, {mean(SCORE, calls, score_group, RANGE)})",
                instant=True,
                format="table",
            ),
            "short",
            value_title="mean score",
            links=_jaeger_links(*call_tags),
        ),
        12,
        9,
    )
    board.add(
        table(
            "Highest evaluation failure rate",
            "Top 10 groups by share of failed evaluations over the range.",
            Query(
                "topk(10, "
                + share(EVALUATIONS, sel(CALLS, NOT_PASSED), calls, score_group, RANGE)
                + ")",
                instant=True,
                format="table",
            ),
            "percentunit",
            value_title="failure rate",
            links=_jaeger_links(*call_tags),
        ),
        12,
        9,
    )
    return board


def safety() -> Dashboard:
    """Redactions by kind, PII found in outputs, safety and policy evaluation failures."""
    board = Dashboard(
        "otel-llm-safety",
        "otel-llm / Safety",
        "Redaction findings, PII in model outputs, and safety/policy evaluation failures "
        "(evaluations named pii_in_output, safety_* or policy_*).",
        _call_filters(),
    )
    service = sel(SERVICE)
    evals = (*CALLS, SAFETY)
    pii = (*CALLS, 'gen_ai_evaluation_name="pii_in_output"')
    board.row("At a glance")
    board.add(
        stat(
            "Redaction findings",
            "Values redacted before export over the range, every kind.",
            Query(total(increase(REDACTIONS, service)) + " or vector(0)"),
            "short",
        ),
        8,
        5,
    )
    board.add(
        stat(
            "PII in outputs",
            "Failed pii_in_output evaluations over the range: a reply contained personal data.",
            Query(total(increase(EVALUATIONS, sel(pii, NOT_PASSED))) + " or vector(0)"),
            "short",
            COUNT_STEPS,
        ),
        8,
        5,
    )
    board.add(
        stat(
            "Policy violations",
            "Failed safety_* and policy_* evaluations over the range.",
            Query(total(increase(EVALUATIONS, sel(CALLS, POLICY, NOT_PASSED))) + " or vector(0)"),
            "short",
            COUNT_STEPS,
        ),
        8,
        5,
    )
    board.row("Redaction")
    board.add(
        timeseries(
            "Redactions by kind",
            "Redaction findings per second by otel_llm.redaction.kind.",
            [
                Query(
                    total(rate(REDACTIONS, service), ["otel_llm_redaction_kind"]),
                    "{{otel_llm_redaction_kind}}",
                )
            ],
            "short",
            stacked=True,
        ),
        24,
        8,
    )
    board.row("Evaluations")
    board.add(
        timeseries(
            "PII-in-output failure rate by prompt version",
            "Share of pii_in_output evaluations that failed, per prompt version.",
            [
                Query(
                    share(EVALUATIONS, sel(pii, NOT_PASSED), sel(pii), ["gen_ai_prompt_version"]),
                    "{{gen_ai_prompt_version}}",
                )
            ],
            "percentunit",
        ),
        12,
        8,
    )
    board.add(
        timeseries(
            "Safety and policy failure rate by evaluation",
            "Share of failed results per safety or policy evaluation.",
            [
                Query(
                    share(
                        EVALUATIONS, sel(evals, NOT_PASSED), sel(evals), ["gen_ai_evaluation_name"]
                    ),
                    "{{gen_ai_evaluation_name}}",
                )
            ],
            "percentunit",
        ),
        12,
        8,
    )
    board.add(
        table(
            "Safety results by prompt version and model",
            "Passed and failed safety/policy evaluations over the range.",
            Query(
                total(
                    increase(EVALUATIONS, sel(evals)),
                    [
                        "gen_ai_evaluation_name",
                        "otel_llm_evaluation_passed",
                        "gen_ai_prompt_version",
                        "gen_ai_request_model",
                    ],
                ),
                instant=True,
                format="table",
            ),
            "short",
            value_title="results",
        ),
        24,
        9,
    )
    return board


def _agent_health(board: Dashboard, tool_calls: str, service: str) -> None:
    """Tool selection and argument failures, fallbacks, agent steps per run and runaways."""
    steps = "otel_llm_agent_steps"
    tool_steps = sel(SERVICE, 'otel_llm_agent_step_kind="tool_call"')
    board.row("Tool and agent health")
    by_tool = total(rate(f"{TOOL}_count", tool_calls), ["gen_ai_tool_name"])
    board.add(
        timeseries(
            "Tool selection share",
            "Each tool's share of the tool calls the model asked for.",
            [
                Query(
                    f"{by_tool} / ignoring (gen_ai_tool_name) group_left () "
                    f"{total(rate(f'{TOOL}_count', tool_calls))}",
                    "{{gen_ai_tool_name}}",
                )
            ],
            "percentunit",
            stacked=True,
        ),
        8,
        8,
    )
    board.add(
        timeseries(
            "Invalid tool arguments by tool",
            "Share of each tool's calls rejected because their arguments failed validation.",
            [
                Query(
                    f"({total(rate(INVALID_ARGUMENTS, tool_calls), ['gen_ai_tool_name'])}"
                    f" or {by_tool} * 0) / {by_tool}",
                    "{{gen_ai_tool_name}}",
                )
            ],
            "percentunit",
        ),
        8,
        8,
    )
    board.add(
        timeseries(
            "Fallback rate",
            "Calls given up for another model or provider, per call made, by the model given up.",
            [
                Query(
                    f"({total(rate(FALLBACKS, service), ['gen_ai_request_model'])}"
                    f" or {total(rate(REQUESTS, service), ['gen_ai_request_model'])} * 0)"
                    f" / {total(rate(REQUESTS, service), ['gen_ai_request_model'])}",
                    "{{gen_ai_request_model}}",
                )
            ],
            "percentunit",
        ),
        8,
        8,
    )
    board.add(
        timeseries(
            "Agent steps per run",
            "Mean model calls and tool calls per agent run (otel_llm.agent.steps).",
            [
                Query(
                    mean(steps, service, ["gen_ai_agent_name", "otel_llm_agent_step_kind"]),
                    "{{gen_ai_agent_name}} {{otel_llm_agent_step_kind}}",
                )
            ],
            "short",
        ),
        12,
        8,
    )
    # The Python Prometheus exporter writes the bound "20.0", the Collector's "20".
    runaway = sel(SERVICE, 'otel_llm_agent_step_kind="tool_call"', 'le=~"20|20.0"')
    board.add(
        stat(
            "Runaway agent runs",
            "Runs with more than 20 tool calls over the range; LLMAgentRunaway fires on any.",
            Query(
                f"{total(increase(f'{steps}_count', tool_steps))}"
                f" - {total(increase(f'{steps}_bucket', runaway))}"
            ),
            "short",
            ((None, "green"), (1, "red")),
        ),
        12,
        8,
    )


def tools() -> Dashboard:
    """Tool calls, retrieval and workflows: rate, failures and latency."""
    board = Dashboard(
        "otel-llm-tools",
        "otel-llm / Tools and retrieval",
        "Tools the model called, retrieval steps and whole workflows.",
        [
            _service(),
            query_variable(
                "tool",
                "Tool",
                f"label_values({TOOL}_count{sel(SERVICE)}, gen_ai_tool_name)",
            ),
        ],
    )
    tool_calls = sel(TOOLS)
    service = sel(SERVICE)
    retrieval = sel(SERVICE, RETRIEVAL)
    board.row("Tools")
    board.add(
        stat(
            "Tool failure rate",
            "Share of tool calls that raised; the tool alert fires above 3 %.",
            Query(share(f"{TOOL}_count", sel(TOOLS, TOOL_FAILED), tool_calls)),
            "percentunit",
            TOOL_FAILURE_STEPS,
        ),
        6,
        8,
    )
    board.add(
        timeseries(
            "Tool calls by tool",
            "Tool executions per second.",
            [
                Query(
                    total(rate(f"{TOOL}_count", tool_calls), ["gen_ai_tool_name"]),
                    "{{gen_ai_tool_name}}",
                )
            ],
            "reqps",
            stacked=True,
        ),
        9,
        8,
    )
    board.add(
        timeseries(
            "Tool failure rate by tool",
            "Share of calls of each tool that raised.",
            [
                Query(
                    share(
                        f"{TOOL}_count", sel(TOOLS, TOOL_FAILED), tool_calls, ["gen_ai_tool_name"]
                    ),
                    "{{gen_ai_tool_name}}",
                )
            ],
            "percentunit",
            steps=TOOL_FAILURE_STEPS,
        ),
        9,
        8,
    )
    board.add(
        timeseries(
            "Tool p95 duration",
            "95th percentile of tool execution time per tool.",
            [
                Query(
                    quantile(0.95, TOOL, tool_calls, ["gen_ai_tool_name"]),
                    "{{gen_ai_tool_name}}",
                    exemplar=True,
                )
            ],
            "s",
        ),
        12,
        8,
    )
    board.add(
        timeseries(
            "Tool failures by error type",
            "Failed tool calls per second by tool and error.type (empty while nothing fails).",
            [
                Query(
                    total(
                        rate(f"{TOOL}_count", sel(TOOLS, TOOL_FAILED)),
                        ["gen_ai_tool_name", "error_type"],
                    ),
                    "{{gen_ai_tool_name}} {{error_type}}",
                )
            ],
            "reqps",
            stacked=True,
        ),
        12,
        8,
    )
    _agent_health(board, tool_calls, service)
    board.row("Retrieval")
    board.add(
        timeseries(
            "Retrievals per second",
            "Calls to otel_llm.retrieval(...) per second.",
            [Query(total(rate(f"{OPERATION}_count", retrieval)), "retrievals")],
            "reqps",
        ),
        8,
        8,
    )
    board.add(
        timeseries(
            "Retrieval latency",
            "p50, p95 and p99 of retrieval duration.",
            [
                Query(quantile(q, OPERATION, retrieval), f"p{round(q * 100)}", exemplar=True)
                for q in (0.5, 0.95, 0.99)
            ],
            "s",
        ),
        8,
        8,
    )
    board.add(
        heatmap(
            "Retrieval latency heatmap",
            "Retrievals per latency bucket over time.",
            Query(
                total(rate(f"{OPERATION}_bucket", retrieval), ["le"]), "{{le}}", format="heatmap"
            ),
            "s",
        ),
        8,
        8,
    )
    board.row("Workflows")
    board.add(
        timeseries(
            "Workflow p95 duration",
            "95th percentile of whole-workflow duration per workflow name.",
            [
                Query(
                    quantile(0.95, WORKFLOW, service, ["gen_ai_workflow_name"]),
                    "{{gen_ai_workflow_name}}",
                    exemplar=True,
                )
            ],
            "s",
            steps=LATENCY_STEPS,
        ),
        12,
        8,
    )
    board.add(
        timeseries(
            "Workflow failure rate",
            "Share of workflow runs that ended in an error, per workflow name.",
            [
                Query(
                    share(
                        f"{WORKFLOW}_count",
                        sel(SERVICE, TOOL_FAILED),
                        service,
                        ["gen_ai_workflow_name"],
                    ),
                    "{{gen_ai_workflow_name}}",
                )
            ],
            "percentunit",
        ),
        12,
        8,
    )
    return board


DASHBOARDS = (overview, release, outliers, safety, tools)
"""Every dashboard factory, in the order they are written."""
