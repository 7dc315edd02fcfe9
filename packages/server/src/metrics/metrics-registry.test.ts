import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createMetricsRegistry } from "./metrics-registry.ts";

describe("the metrics registry", () => {
  it("renders counters in the Prometheus text format 0.0.4, with escaped label values", () => {
    const registry = createMetricsRegistry();
    const failures = registry.counter("countersign_test_failures_total", "Failures.\nBy code.", ["code"]);
    failures.inc({ code: "invalid_signature" });
    failures.inc({ code: "invalid_signature" }, 2);
    failures.inc({ code: 'say "hi"\\' });
    assert.equal(failures.get({ code: "invalid_signature" }), 3);
    assert.equal(
      registry.render(),
      [
        "# HELP countersign_test_failures_total Failures.\\nBy code.",
        "# TYPE countersign_test_failures_total counter",
        'countersign_test_failures_total{code="invalid_signature"} 3',
        'countersign_test_failures_total{code="say \\"hi\\"\\\\"} 1',
        "",
      ].join("\n"),
    );
  });

  it("returns the same counter for the same name, and refuses bad names, labels and decrements", () => {
    const registry = createMetricsRegistry();
    const a = registry.counter("x_total", "x", ["code"]);
    a.inc({ code: "a" });
    assert.equal(registry.counter("x_total", "x", ["code"]).get({ code: "a" }), 1);
    assert.throws(() => registry.counter("x_total", "x", ["mode"]), /other labels/);
    assert.throws(() => registry.counter("1bad", "x", []), TypeError);
    assert.throws(() => registry.counter("ok_total", "x", ["__reserved"]), TypeError);
    assert.throws(() => a.inc({ code: "a" }, -1), RangeError);
    assert.equal(createMetricsRegistry().render(), "");
  });

  it("keeps a bounded number of series per counter", () => {
    const counter = createMetricsRegistry().counter("many_total", "x", ["v"]);
    for (let i = 0; i < 1_500; i++) counter.inc({ v: String(i) });
    assert.equal(counter.get({ v: "999" }), 1);
    assert.equal(counter.get({ v: "1000" }), 0);
  });
});
