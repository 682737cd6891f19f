"""A boto3 app for the zero-code tests: Bedrock Converse (plain and streamed) and SQS calls.

Served by the fake Bedrock Runtime on 127.0.0.1 (which answers SQS's JSON calls `{}`).
"""

import boto3

from otel_llm.payloads.bedrock import MODEL_IDS, converse_request
from tests.instrumentation.bedrock._server import FakeBedrock


def main() -> None:
    """Make the three calls, then say so."""
    with FakeBedrock() as fake:
        client = fake.client()
        client.converse(modelId=MODEL_IDS["nova"], **converse_request())
        reply = client.converse_stream(modelId=MODEL_IDS["nova"], **converse_request())
        for _ in reply["stream"]:
            pass
        sqs = boto3.client(
            "sqs",
            region_name="us-east-1",
            endpoint_url=fake.url,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",  # noqa: S106
        )
        sqs.list_queues()
    print("app done")


if __name__ == "__main__":
    main()
