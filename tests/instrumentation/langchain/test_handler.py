"""LangChain and LangGraph runs recorded through the real packages and the real openai client."""

from __future__ import annotations

import asyncio
import gc
import operator
from collections.abc import Iterator
from typing import Annotated, Any, TypedDict

import pytest
from langchain.agents import create_agent
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.graph import END, START, StateGraph
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import StatusCode

from otel_llm.config import ContentCapturingMode
from otel_llm.instrumentation.langchain import LangChainInstrumentor
from semconvgen.model import Registry
from tests.conftest import Captured
from tests.instrumentation._frameworks_app import (
    CONTENT_KEYS,
    Scripted,
    answer,
    by_name,
    check_declared,
    instrumented,
    one_trace,
    parent_name,
    point_counts,
    texts,
    tool_call_reply,
)

SECRET = "order 42 for jane@example.com"  # content that must never be recorded with capture off


class OrderError(RuntimeError):
    """What the failing tool raises (its message quotes the argument)."""


@tool
def lookup(order: str) -> str:
    """Look up an order."""
    return f"{order} shipped"


@tool
def broken(order: str) -> str:
    """A lookup that fails."""
    raise OrderError(f"no such order: {order}")


def chat_model(script: Scripted) -> ChatOpenAI:
    """LangChain's OpenAI chat model over the scripted transport."""
    sync, async_ = script.clients()
    return ChatOpenAI(
        model="gpt-4o-mini",
        api_key="sk-test",  # type: ignore[arg-type]
        http_client=sync,
        http_async_client=async_,
        max_retries=0,
    )


def fake_model(*replies: str) -> GenericFakeChatModel:
    """A LangChain-only chat model (no SDK beneath) that reports usage."""
    messages = [
        AIMessage(
            content=text,
            usage_metadata={"input_tokens": 11, "output_tokens": 7, "total_tokens": 18},
            response_metadata={"model_name": "fake-1", "finish_reason": "stop"},
        )
        for text in replies
    ]
    return GenericFakeChatModel(messages=iter(messages))


@pytest.fixture
def captured() -> Iterator[Captured]:
    """The openai SDK and LangChain instrumented on in-memory providers."""
    with instrumented(LangChainInstrumentor()) as found:
        yield found


def _agent_run(script: Scripted, **config: Any) -> dict[str, Any]:
    agent = create_agent(chat_model(script), [lookup], name="support")
    result: dict[str, Any] = agent.invoke(
        {"messages": [("user", SECRET)]},
        config={"configurable": {"thread_id": "t-1"}, **config},  # type: ignore[call-overload]
    )
    return result


def test_an_agent_run_is_one_trace_with_each_model_call_recorded_once(captured: Captured) -> None:
    """create_agent: invoke_agent root, nodes, the SDK's chat spans under them, the tool call."""
    script = Scripted([tool_call_reply("lookup", {"order": "42"}, "call_1"), answer()])
    _agent_run(script)
    root = one_trace(captured)
    assert root.name == "invoke_agent support"
    assert root.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert root.attributes["gen_ai.conversation.id"] == "t-1"
    spans = by_name(captured)
    chats = spans["chat gpt-4o-mini"]
    assert len(chats) == len(script.requests) == 2  # one inference span per model call
    assert {parent_name(captured, s) for s in chats} == {"model"}
    assert {parent_name(captured, s) for s in spans["model"]} == {"invoke_agent support"}
    (tool_span,) = spans["execute_tool lookup"]
    assert parent_name(captured, tool_span) == "tools"
    assert tool_span.attributes["gen_ai.tool.call.id"] == "call_1"
    assert tool_span.attributes["gen_ai.agent.name"] == "support"
    assert all(s.attributes["gen_ai.conversation.id"] == "t-1" for s in chats)
    # Metrics once each: two calls, one agent run, one tool call.
    assert sum(n for _, n in point_counts(captured, "gen_ai.client.inference.duration")) == 2
    assert point_counts(captured, "gen_ai.invoke_agent.duration") == [
        ({"gen_ai.agent.name": "support"}, 1)
    ]
    assert point_counts(captured, "gen_ai.execute_tool.duration") == [
        (
            {
                "gen_ai.tool.name": "lookup",
                "gen_ai.tool.type": "function",
                "gen_ai.agent.name": "support",
            },
            1,
        )
    ]


def test_every_span_attribute_and_metric_is_declared(
    captured: Captured, registry: Registry
) -> None:
    """Workflow, agent, tool, retrieval and inference spans carry only what semconv/ declares."""
    script = Scripted([tool_call_reply("lookup", {"order": "42"}, "call_1"), answer()])
    _agent_run(script)
    _Articles().invoke("where?")
    (ChatPromptTemplate.from_messages([("user", "{q}")]) | fake_model("hi")).invoke({"q": "x"})
    check_declared(captured, registry)


def test_with_capture_off_no_content_is_recorded(captured: Captured) -> None:
    """Neither the prompt, the tool's arguments and result, nor the answer reach a span."""
    script = Scripted([tool_call_reply("lookup", {"order": SECRET}, "call_1"), answer(SECRET)])
    _agent_run(script)
    recorded = texts(captured)
    assert SECRET not in recorded
    assert not any(key in recorded for key in CONTENT_KEYS)


def test_with_capture_on_tool_arguments_and_results_are_recorded() -> None:
    """SPAN_ONLY records the tool call's arguments, result and description on its span."""
    with instrumented(LangChainInstrumentor(), mode=ContentCapturingMode.SPAN_ONLY) as found:
        script = Scripted([tool_call_reply("lookup", {"order": "42"}, "call_1"), answer()])
        _agent_run(script)
    (tool_span,) = by_name(found)["execute_tool lookup"]
    assert tool_span.attributes["gen_ai.tool.description"] == "Look up an order."
    assert '"42"' in tool_span.attributes["gen_ai.tool.call.arguments"]
    assert "42 shipped" in tool_span.attributes["gen_ai.tool.call.result"]


def test_a_failing_tool_is_recorded_by_its_type_only(captured: Captured) -> None:
    """The tool's span fails with error.type; its message (quoting the argument) is not kept."""
    script = Scripted([tool_call_reply("broken", {"order": SECRET}, "call_9"), answer()])
    agent = create_agent(chat_model(script), [broken], name="support")
    with pytest.raises(OrderError):
        agent.invoke({"messages": [("user", "hi")]})
    (tool_span,) = by_name(captured)["execute_tool broken"]
    assert tool_span.status.status_code is StatusCode.ERROR
    error = f"{OrderError.__module__}.{OrderError.__qualname__}"
    assert tool_span.attributes["error.type"] == error
    assert SECRET not in texts(captured)
    (root,) = by_name(captured)["invoke_agent support"]
    assert root.status.status_code is StatusCode.ERROR
    ((attributes, count),) = point_counts(captured, "gen_ai.execute_tool.duration")
    assert attributes["error.type"] == error
    assert count == 1


def test_with_capture_on_spans_a_failure_keeps_its_message() -> None:
    """SPAN_ONLY records the exception's message as content (redacted by the pipeline)."""
    with instrumented(LangChainInstrumentor(), mode=ContentCapturingMode.SPAN_ONLY) as found:
        script = Scripted([tool_call_reply("broken", {"order": "42"}, "call_9"), answer()])
        agent = create_agent(chat_model(script), [broken], name="support")
        with pytest.raises(OrderError):
            agent.invoke({"messages": [("user", "hi")]})
    (tool_span,) = by_name(found)["execute_tool broken"]
    (event,) = [e for e in tool_span.events if e.name == "exception"]
    assert "no such order: 42" in event.attributes["exception.message"]


def test_a_langchain_only_model_is_recorded_by_the_handler_with_usage(
    captured: Captured,
) -> None:
    """No SDK beneath: the callback's own inference span, under the chain, with usage."""
    prompt = ChatPromptTemplate.from_messages([("user", "{question}")])
    chain = prompt | fake_model("It ships today.")
    chain.invoke({"question": SECRET})
    root = one_trace(captured)
    assert root.name == "invoke_workflow RunnableSequence"
    (chat,) = [s for s in captured.finished_spans() if s.name.startswith("chat")]
    assert parent_name(captured, chat) == "invoke_workflow RunnableSequence"
    assert chat.kind is trace.SpanKind.CLIENT
    assert chat.attributes["gen_ai.operation.name"] == "chat"
    assert chat.attributes["gen_ai.provider.name"] == "genericfakechatmodel"
    assert chat.attributes["gen_ai.usage.input_tokens"] == 11
    assert chat.attributes["gen_ai.usage.output_tokens"] == 7
    assert chat.attributes["gen_ai.response.model"] == "fake-1"
    assert chat.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert sum(n for _, n in point_counts(captured, "gen_ai.client.inference.duration")) == 1
    (inputs,) = captured.metric_points("gen_ai.client.inference.usage.input_tokens")
    assert inputs.value == 11
    assert SECRET not in texts(captured)


def test_a_langchain_only_stream_records_its_first_chunk() -> None:
    """A streamed LangChain-only model gets time to first chunk; content with SPAN_ONLY."""
    with instrumented(LangChainInstrumentor(), mode=ContentCapturingMode.SPAN_ONLY) as found:
        chunks = list(fake_model("It ships today.").stream("Where is my order?"))
    assert chunks
    (chat,) = found.finished_spans()
    assert chat.attributes["gen_ai.request.stream"] is True
    assert "gen_ai.response.time_to_first_chunk" in chat.attributes
    assert "Where is my order?" in chat.attributes["gen_ai.input.messages"]
    assert "ships" in chat.attributes["gen_ai.output.messages"]


def test_without_the_sdk_instrumented_the_handler_records_the_openai_call() -> None:
    """ChatOpenAI with otel-llm's openai instrumentation off: one span, from LangChain's report."""
    with instrumented(LangChainInstrumentor(), openai_sdk=False) as found:
        script = Scripted([answer()])
        chat_model(script).invoke("Where is my order?")
    (chat,) = found.finished_spans()
    assert chat.name == "chat gpt-4o-mini"
    assert chat.attributes["gen_ai.provider.name"] == "openai"
    assert chat.attributes["gen_ai.usage.input_tokens"] > 0
    assert chat.attributes["gen_ai.response.id"] == "chatcmpl-AbC123"


def test_a_model_called_alone_is_the_sdk_span_under_the_callers_span(captured: Captured) -> None:
    """model.invoke() outside any chain: the SDK's span, a child of the application's span."""
    tracer = captured.providers["tracer_provider"].get_tracer("app")
    with tracer.start_as_current_span("request"):
        chat_model(Scripted([answer()])).invoke("Where is my order?")
    spans = by_name(captured)
    assert sorted(spans) == ["chat gpt-4o-mini", "request"]
    assert parent_name(captured, spans["chat gpt-4o-mini"][0]) == "request"


class _State(TypedDict):
    question: str
    answers: Annotated[list[str], operator.add]


def _parallel_graph(model: ChatOpenAI) -> Any:
    """Two nodes in one superstep (LangGraph runs them in two threads), then a join."""

    def ask(name: str) -> Any:
        def node(state: _State) -> dict[str, list[str]]:
            reply = model.invoke(f"{name}: {state['question']}")
            return {"answers": [str(reply.content)]}

        node.__name__ = name
        return node

    async def aask_billing(state: _State) -> dict[str, list[str]]:
        reply = await model.ainvoke(state["question"])
        return {"answers": [str(reply.content)]}

    builder = StateGraph(_State)
    builder.add_node("shipping", ask("shipping"))
    builder.add_node("billing", RunnableLambda(ask("billing"), afunc=aask_billing))
    builder.add_node("join", lambda state: {"answers": []})
    builder.add_edge(START, "shipping")
    builder.add_edge(START, "billing")
    builder.add_edge(["shipping", "billing"], "join")
    builder.add_edge("join", END)
    return builder.compile(name="support_graph")


def test_parallel_nodes_in_threads_parent_their_sdk_calls(captured: Captured) -> None:
    """Each node's SDK call is a child of that node, whichever thread ran it; one trace."""
    graph = _parallel_graph(chat_model(Scripted([answer()])))
    graph.invoke({"question": "where?", "answers": []}, {"configurable": {"thread_id": "t-2"}})
    root = one_trace(captured)
    assert root.name == "invoke_workflow support_graph"
    chats = by_name(captured)["chat gpt-4o-mini"]
    assert {s.attributes["gen_ai.conversation.id"] for s in chats} == {"t-2"}
    assert sorted(str(parent_name(captured, s)) for s in chats) == ["billing", "shipping"]
    assert point_counts(captured, "gen_ai.invoke_workflow.duration") == [
        ({"gen_ai.workflow.name": "support_graph"}, 1)
    ]


def test_parallel_nodes_as_async_tasks_parent_their_sdk_calls(captured: Captured) -> None:
    """The same graph through ainvoke: nodes as tasks, each SDK call under its node."""
    graph = _parallel_graph(chat_model(Scripted([answer()])))
    outer = trace.get_current_span()
    asyncio.run(graph.ainvoke({"question": "where?", "answers": []}))
    assert trace.get_current_span() is outer  # nothing left current behind
    one_trace(captured)
    chats = by_name(captured)["chat gpt-4o-mini"]
    assert sorted(str(parent_name(captured, s)) for s in chats) == ["billing", "shipping"]


def test_an_async_agent_leaves_no_span_current(captured: Captured) -> None:
    """After `await agent.ainvoke()` a later call is no child of the finished run."""
    script = Scripted([tool_call_reply("lookup", {"order": "42"}, "call_1"), answer(), answer()])
    agent = create_agent(chat_model(script), [lookup], name="support")
    client = chat_model(script)

    async def run() -> None:
        await agent.ainvoke({"messages": [("user", "hi")]})
        await client.ainvoke("and then?")

    asyncio.run(run())
    spans = by_name(captured)
    later = [s for s in spans["chat gpt-4o-mini"] if s.parent is None]
    assert len(later) == 1  # the call after the run is a root of its own
    assert len(spans["chat gpt-4o-mini"]) == 3


def test_leaving_a_streamed_graph_early_ends_every_span_once(captured: Captured) -> None:
    """`break` out of graph.stream(): the run's spans end once each; nothing stays current."""
    script = Scripted([tool_call_reply("lookup", {"order": "42"}, "call_1"), answer()])
    agent = create_agent(chat_model(script), [lookup], name="support")
    outer = trace.get_current_span()
    for _chunk in agent.stream({"messages": [("user", "hi")]}, stream_mode="updates"):
        break
    gc.collect()
    assert trace.get_current_span() is outer
    root = one_trace(captured)
    assert root.name == "invoke_agent support"
    assert root.status.status_code is StatusCode.UNSET  # the consumer stopped: no failure
    assert "error.type" not in root.attributes
    assert len(script.requests) == 1
    assert len(by_name(captured)["chat gpt-4o-mini"]) == 1


def test_leaving_an_async_stream_early_ends_every_span_once(captured: Captured) -> None:
    """`break` out of graph.astream(): the same, with the generator closed by the loop."""
    script = Scripted([tool_call_reply("lookup", {"order": "42"}, "call_1"), answer()])
    agent = create_agent(chat_model(script), [lookup], name="support")

    async def run() -> None:
        stream: Any = agent.astream({"messages": [("user", "hi")]}, stream_mode="updates")
        async for _chunk in stream:
            break
        await stream.aclose()

    asyncio.run(run())
    root = one_trace(captured)
    assert root.name == "invoke_agent support"
    assert root.end_time is not None


class _Articles(BaseRetriever):
    """A retriever over two fixed articles."""

    def _get_relevant_documents(self, query: str, **kwargs: Any) -> list[Document]:
        return [
            Document(id="kb-1", page_content=SECRET, metadata={"score": 0.91}),
            Document(id="kb-2", page_content="Returns take 5 days.", metadata={"score": 0.5}),
        ]


def test_a_retriever_records_ids_and_scores_never_text(captured: Captured) -> None:
    """`retrieval {name}` with the documents' ids and scores; their text is content."""
    _Articles().with_config(run_name="kb-articles").invoke("where is my order?")
    (span,) = by_name(captured)["retrieval kb-articles"]
    assert span.kind is trace.SpanKind.CLIENT
    assert span.attributes["gen_ai.data_source.id"] == "kb-articles"
    assert span.attributes["gen_ai.retrieval.documents"] == (
        '[{"id": "kb-1", "score": 0.91}, {"id": "kb-2", "score": 0.5}]'
    )
    assert SECRET not in texts(captured)
    ((attributes, count),) = point_counts(captured, "gen_ai.client.operation.duration")
    assert attributes == {"gen_ai.operation.name": "retrieval"}
    assert count == 1


def test_with_capture_on_a_retriever_records_the_text_too() -> None:
    """SPAN_ONLY adds each document's text to its id and score."""
    with instrumented(LangChainInstrumentor(), mode=ContentCapturingMode.SPAN_ONLY) as found:
        _Articles().invoke("where?")
    (span,) = found.finished_spans()
    assert "Returns take 5 days." in span.attributes["gen_ai.retrieval.documents"]


def test_calls_inside_a_sync_retriever_are_its_children(captured: Captured) -> None:
    """An SDK call a retriever makes (an embedding, a rewrite) is parented under it."""
    model = chat_model(Scripted([answer()]))

    class Rewriting(BaseRetriever):
        def _get_relevant_documents(self, query: str, **kwargs: Any) -> list[Document]:
            model.invoke(query)
            return []

    Rewriting().invoke("where?")
    (chat,) = by_name(captured)["chat gpt-4o-mini"]
    assert parent_name(captured, chat) == "retrieval Rewriting"


def test_a_chain_under_the_applications_span_joins_its_trace(captured: Captured) -> None:
    """The outermost run is a child of whatever span the application has current."""
    tracer = captured.providers["tracer_provider"].get_tracer("app")
    with tracer.start_as_current_span("POST /chat") as request:
        chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | chat_model(
            Scripted([answer()])
        )
        chain.invoke({"q": "hi"})
    spans = by_name(captured)
    (workflow,) = spans["invoke_workflow RunnableSequence"]
    assert workflow.parent.span_id == request.get_span_context().span_id
    assert parent_name(captured, spans["chat gpt-4o-mini"][0]) == "invoke_workflow RunnableSequence"


def test_uninstrument_stops_recording() -> None:
    """After uninstrument() a run records nothing and LangChain no longer calls the handler."""
    with instrumented(LangChainInstrumentor(), openai_sdk=False) as found:
        pass
    (ChatPromptTemplate.from_messages([("user", "{q}")]) | fake_model("hi")).invoke({"q": "x"})
    assert found.finished_spans() == []


def test_the_handler_records_on_the_providers_it_was_given() -> None:
    """Spans go to the instrumentor's providers, under whatever span is current."""
    other = TracerProvider()
    with instrumented(LangChainInstrumentor(), openai_sdk=False) as found:
        tracer = other.get_tracer("elsewhere")
        with tracer.start_as_current_span("outside"):
            fake_model("hi").invoke("x")
    assert [s.name for s in found.finished_spans()] == ["chat"]


def test_an_agent_counts_its_model_and_tool_calls_as_steps(captured: Captured) -> None:
    """otel_llm.agent.steps for create_agent: two model calls (SDK spans) and one tool call."""
    _agent_run(Scripted([tool_call_reply("lookup", {"order": "42"}, "call_1"), answer()]))
    steps = {
        (p.attributes["gen_ai.agent.name"], p.attributes["otel_llm.agent.step.kind"]): p.sum
        for p in captured.metric_points("otel_llm.agent.steps")
    }
    assert steps == {("support", "model_call"): 2, ("support", "tool_call"): 1}


def test_an_async_agent_counts_its_steps_too(captured: Captured) -> None:
    """ainvoke: the steps made in LangGraph's tasks are counted in the agent's run."""
    script = Scripted([tool_call_reply("lookup", {"order": "42"}, "call_1"), answer()])
    agent = create_agent(chat_model(script), [lookup], name="support")
    asyncio.run(agent.ainvoke({"messages": [("user", "hi")]}))
    steps = {
        p.attributes["otel_llm.agent.step.kind"]: p.sum
        for p in captured.metric_points("otel_llm.agent.steps")
    }
    assert steps == {"model_call": 2, "tool_call": 1}


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_langchain_only_models_call_is_a_step_of_its_agent(captured: Captured, mode: str) -> None:
    """A call no SDK covered is recorded at its end by the handler, and still counted once."""
    agent = create_agent(fake_model("hello"), [], name="support")
    if mode == "sync":
        agent.invoke({"messages": [("user", "hi")]})
    else:
        asyncio.run(agent.ainvoke({"messages": [("user", "hi")]}))
    steps = {
        p.attributes["otel_llm.agent.step.kind"]: p.sum
        for p in captured.metric_points("otel_llm.agent.steps")
    }
    assert steps == {"model_call": 1, "tool_call": 0}
