#!/usr/bin/env node
// SSBTEK Core: an example case-system client in Node.js, built from the proto bundle alone.
//
//   make protos                          # writes build/protos (and build/protos.tar.gz)
//   (cd clients/node && npm ci)          # @grpc/grpc-js, @grpc/proto-loader, protobufjs
//   node clients/node/client.js --bundle build/protos --target 127.0.0.1:50051 \
//       --organisation 212000-0142 --caseworker HL000001 --case EKB-2026-0001 \
//       --subject 191212121212
//
// It submits one query, streams the same query, then shows the structured errors: a bad
// request (INVALID_ARGUMENT with google.rpc.BadRequest) and a retry of the first call's
// client_request_id (ALREADY_EXISTS with ssbtek.v1.QueryAlreadyReceived). Every line it
// prints is one JSON object. It prints providers and outcomes, never the providers' data.
"use strict";

const path = require("node:path");
const { parseArgs } = require("node:util");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");
const protobuf = require("protobufjs");

const { values: args } = parseArgs({
  options: {
    bundle: { type: "string", default: "build/protos" },
    target: { type: "string", default: "127.0.0.1:50051" },
    organisation: { type: "string", default: "212000-0142" },
    caseworker: { type: "string", default: "HL000001" },
    case: { type: "string", default: "EKB-2026-0001" },
    subject: { type: "string", default: "191212121212" },
    "client-request-id": { type: "string", default: `example-${Date.now()}` },
  },
});

const bundle = path.resolve(args.bundle);
const definition = protoLoader.loadSync(["ssbtek/v1/query_service.proto"], {
  includeDirs: [bundle],
  keepCase: true,
  enums: String,
  longs: String,
  oneofs: true,
});
const ssbtek = grpc.loadPackageDefinition(definition).ssbtek.v1;
const client = new ssbtek.QueryService(args.target, grpc.credentials.createInsecure());

// The error details are google.protobuf.Any values: decode them with the bundle's types.
const details = new protobuf.Root();
details.resolvePath = (_origin, target) => path.join(bundle, target);
details.loadSync(
  ["google/rpc/status.proto", "google/rpc/error_details.proto", "ssbtek/v1/errors.proto"],
  { keepCase: true },
);
const Status = details.lookupType("google.rpc.Status");
const asObject = { enums: String, longs: String, defaults: false };
const codeNames = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k]));

function print(event, fields) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + "\n");
}

function structured(error) {
  const [raw] = error.metadata ? error.metadata.get("grpc-status-details-bin") : [];
  const decoded = raw ? Status.decode(raw) : { details: [] };
  return decoded.details.map((any) => {
    const name = any.type_url.slice(any.type_url.lastIndexOf("/") + 1);
    const type = details.lookupType(name);
    return { "@type": name, ...type.toObject(type.decode(any.value), asObject) };
  });
}

function printError(call, error) {
  print("error", {
    call,
    code: codeNames[error.code],
    message: error.details,
    details: structured(error),
  });
}

function query(overrides = {}) {
  return {
    asking_organisation: { organisation_number: args.organisation },
    caseworker_id: args.caseworker,
    case_id: args.case,
    purpose: "PURPOSE_FINANCIAL_ASSISTANCE_CASE",
    legal_basis: "LEGAL_BASIS_SOL_11_KAP_11",
    period: { start: { year: 2026, month: 1, day: 1 }, end: { year: 2026, month: 6, day: 30 } },
    subjects: [args.subject],
    ...overrides,
  };
}

const deadline = (seconds) => ({ deadline: new Date(Date.now() + seconds * 1000) });

function submit(request) {
  return new Promise((resolve, reject) =>
    client.SubmitQuery(request, deadline(30), (error, response) =>
      error ? reject(error) : resolve(response),
    ),
  );
}

function stream(request) {
  return new Promise((resolve, reject) => {
    const call = client.StreamQuery(request, deadline(30));
    call.on("data", (message) => {
      if (message.part) {
        const { provider, outcome, subject_index } = message.part;
        print("part", { provider, outcome, subject_index });
      } else {
        const { query_id, answered, no_data, errors, closed, not_entitled } = message.summary;
        print("summary", { query_id, answered, no_data, errors, closed, not_entitled });
      }
    });
    call.on("error", reject);
    call.on("end", resolve);
  });
}

async function main() {
  const clientRequestId = args["client-request-id"];
  const first = await submit(query({ client_request_id: clientRequestId }));
  const outcomes = first.answer.subjects.flatMap((s) => s.parts.map((p) => p.outcome));
  print("submitted", { query_id: first.answer.query_id, parts: outcomes.length, outcomes });

  await stream(query());

  try {
    await submit(query({ subjects: ["123"] }));
  } catch (error) {
    printError("SubmitQuery", error);
  }
  try {
    await submit(query({ client_request_id: clientRequestId }));
  } catch (error) {
    printError("SubmitQuery", error);
  }
  print("done", {});
  client.close();
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
