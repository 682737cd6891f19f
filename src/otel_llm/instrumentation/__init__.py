"""GenAI client instrumentation: one provider-neutral engine, one thin module per provider SDK."""
