import { describe, expect, it } from "vitest";
import { localeChain } from "./locale-chain.js";

describe("localeChain", () => {
  it("goes from the most specific tag through its parents to the default and then en", () => {
    expect(localeChain("de-AT", "en")).toEqual(["de-AT", "de", "en"]);
    expect(localeChain("zh-Hant-TW", "fr")).toEqual(["zh-Hant-TW", "zh-Hant", "zh", "fr", "en"]);
  });

  it("canonicalises the case of a tag", () => {
    expect(localeChain("de-at", "EN")).toEqual(["de-AT", "de", "en"]);
  });

  it("starts at the default locale without a customer locale or with a malformed one", () => {
    expect(localeChain(undefined, "de-CH")).toEqual(["de-CH", "de", "en"]);
    expect(localeChain("de_AT!", "en")).toEqual(["en"]);
  });
});
