"""atheris fuzz target: request bytes -> protobuf -> translation -> validation -> status.

    make fuzz                     # a bounded run (FUZZ_RUNS, default 200000)
    .venv/bin/python tests/reliability/fuzz_request_validation.py -runs=1000000

Any exception other than a refusal (``InvalidRequestError``) is a finding, and so is a
refusal whose status echoes a subject that was in the request.
"""

from __future__ import annotations

import datetime as dt
import sys

import atheris

with atheris.instrument_imports():
    from google.protobuf.message import DecodeError

    from adapters.grpc import translation
    from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
    from adapters.grpc.status import status_for
    from application.errors import InvalidRequestError
    from application.validation import validate


def test_one_input(data: bytes) -> None:
    request = pb.SubmitQueryRequest()
    try:
        request.ParseFromString(data)
    except DecodeError:
        return  # the gRPC runtime refuses undecodable bytes before our code runs
    try:
        validate(translation.query_command(request), today=dt.date.today())
    except InvalidRequestError as error:
        rendered = status_for(error).SerializeToString()
        for subject in request.subjects:
            if len(subject) >= 10 and subject.encode() in rendered:
                raise AssertionError("a refusal echoed a subject") from None


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
