import { describe, expect, it } from "vitest";
import { comparePrecedence, compileRoute } from "../../dev/host/routes";

describe("compileRoute", () => {
  it.each([
    ["api/issues/{id}", "/api/issues/42", { id: "42" }],
    ["api/issues/{id}", "/API/Issues/42/", { id: "42" }],
    ["api/issues/{id}", "/api/issues/a%20b", { id: "a b" }],
    ["api/slack/{kind?}", "/api/slack", {}],
    ["api/slack/{kind?}", "/api/slack/events", { kind: "events" }],
    ["api/items/{id:int}", "/api/items/-7", { id: "-7" }],
    ["api/items/{id:int:min(1)}", "/api/items/3", { id: "3" }],
    ["api/files/{*path}", "/api/files/a/b/c.txt", { path: "a/b/c.txt" }],
    ["api/files/{*path}", "/api/files", {}],
    ["api/files/{name}.{ext}", "/api/files/report.pdf", { name: "report", ext: "pdf" }],
    ["messages", "/messages", {}],
  ])("%s matches %s", (template, path, params) => {
    expect(compileRoute(template).match(path)).toEqual(params);
  });

  it.each([
    ["api/issues/{id}", "/api/issues"],
    ["api/issues/{id}", "/api/issues/1/2"],
    ["api/issues/{id}", "/other/issues/1"],
    ["api/items/{id:int}", "/api/items/abc"],
    ["api/items/{id:int}", "/api/items/99999999999"],
    ["api/items/{id:int:min(1)}", "/api/items/0"],
    ["api/items/{id:guid}", "/api/items/not-a-guid"],
    ["api/items/{id:alpha}", "/api/items/abc1"],
    ["api/items/{id:length(3)}", "/api/items/abcd"],
    ["api/items/{id:regex(^[a-z]+-\\d+$)}", "/api/items/abc"],
    ["api/issues/{id}", "/api/issues/%E0%A4%A"],
  ])("%s does not match %s", (template, path) => {
    expect(compileRoute(template).match(path)).toBeUndefined();
  });

  it("accepts the constraints the host documents", () => {
    expect(compileRoute("x/{id:guid}").match("/x/0f8fad5b-d9cb-469f-a165-70867728950e")).toBeDefined();
    expect(compileRoute("x/{v:bool}").match("/x/TRUE")).toBeDefined();
    expect(compileRoute("x/{v:range(1,5)}").match("/x/5")).toBeDefined();
    expect(compileRoute("x/{v:maxlength(2)}").match("/x/abc")).toBeUndefined();
    expect(compileRoute("x/{v:datetime}").match("/x/2026-01-02")).toBeDefined();
  });

  it.each([
    ["api/{*rest}/more", /catch-all parameter must be the last segment/],
    ["api/{a?}/b", /only the last segment can be optional/],
    ["api/{id=5}", /default values are not supported/],
    ["api/{id:wat}", /unsupported constraint "wat"/],
    ["api/x{y", /unbalanced braces/],
  ])("rejects %s at startup", (template, error) => {
    expect(() => compileRoute(template)).toThrow(error);
  });

  it("orders literals before constrained parameters before parameters before catch-alls", () => {
    const templates = ["api/{*rest}", "api/items/{id}", "api/items/{id:int}", "api/items/search", "api/items"];
    const sorted = templates
      .map(compileRoute)
      .sort(comparePrecedence)
      .map((route) => route.template);
    expect(sorted).toEqual(["/api/items", "/api/items/search", "/api/items/{id:int}", "/api/items/{id}", "/api/{*rest}"]);
  });
});
