import { describe, expect, it } from "vitest";
import { z } from "zod";
import { loadConfig } from "@lifecycle/config";
import { tracingEnv, tracingPlan } from "./tracing.js";

const plan = (env: Record<string, string>) => tracingPlan(loadConfig(z.object(tracingEnv), env));

describe("tracing settings", () => {
  it("are off by default", () => {
    expect(plan({})).toEqual({ on: false, why: "no OTLP endpoint and no OTEL_TRACES_EXPORTER" });
  });

  it("turn on with an endpoint or OTEL_TRACES_EXPORTER=otlp, in protobuf unless JSON is asked for", () => {
    expect(plan({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toEqual({ on: true, protocol: "http/protobuf", endpoint: "http://collector:4318" });
    expect(plan({ OTEL_TRACES_EXPORTER: "otlp" })).toEqual({ on: true, protocol: "http/protobuf", endpoint: undefined });
    expect(plan({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://b:4318/v1/traces", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" })).toEqual({
      on: true,
      protocol: "http/json",
      endpoint: "http://b:4318/v1/traces",
    });
    expect(plan({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf" })).toMatchObject({ protocol: "http/protobuf" });
  });

  it("stay off when disabled, whatever else is set", () => {
    expect(plan({ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toMatchObject({ on: false });
    expect(plan({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toMatchObject({ on: false });
  });

  it("refuse what they cannot do, naming the variable", () => {
    expect(() => plan({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported/);
    expect(() => plan({ OTEL_TRACES_EXPORTER: "jaeger" })).toThrow(/OTEL_TRACES_EXPORTER/);
    expect(() => plan({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});
