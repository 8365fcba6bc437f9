import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { parse } from "yaml";

import {
    configReferenceMarkdown,
    REFERENCE_FILE,
    SCHEMA_FILE,
    stackFileJsonSchema,
    stackFileJsonSchemaText,
} from "../config/json-schema";
import { fixture, projectDir } from "./helpers";

/** The editor-facing JSON Schema of stack files, generated from the zod schema. */
describe("stack file JSON Schema", () => {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(ajv);
    const validate = ajv.compile(stackFileJsonSchema());
    const load = (file: string): unknown => parse(fs.readFileSync(file, "utf8"));
    const errors = (doc: unknown): string[] => {
        validate(doc);
        return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
    };

    it("is checked in and up to date", () => {
        const checkedIn = fs.readFileSync(path.join(projectDir, SCHEMA_FILE), "utf8");
        assert.equal(checkedIn, stackFileJsonSchemaText(), `${SCHEMA_FILE} is stale: run npm run schema`);
    });

    it("has an up-to-date configuration reference listing every key", () => {
        const checkedIn = fs.readFileSync(path.join(projectDir, REFERENCE_FILE), "utf8");
        assert.equal(checkedIn, configReferenceMarkdown(), `${REFERENCE_FILE} is stale: run npm run schema`);
        for (const key of [
            "observability:storage.buckets.metrics",
            "observability:retention.metrics.raw",
            "observability:mainStack",
        ]) {
            assert.ok(checkedIn.includes(`| \`${key}\` |`), key);
        }
    });

    it("accepts both example stack files and the S3 fixture", () => {
        for (const file of [
            path.join(projectDir, "Pulumi.main.yaml"),
            path.join(projectDir, "Pulumi.sub.yaml"),
            fixture("Pulumi.main-s3.yaml"),
        ]) {
            assert.equal(validate(load(file)), true, `${file}: ${JSON.stringify(validate.errors)}`);
        }
    });

    it("accepts a stack file with its secrets provider settings and other namespaces' keys", () => {
        const doc = load(path.join(projectDir, "Pulumi.sub.yaml")) as { config: Record<string, unknown> };
        doc.config["kubernetes:context"] = "admin@x";
        assert.equal(validate({ ...doc, secretsprovider: "passphrase", encryptionsalt: "v1:abc" }), true);
    });

    it("flags a credential written in plain text", () => {
        const doc = load(fixture("Pulumi.main-s3.yaml")) as { config: Record<string, unknown> };
        doc.config["observability:s3SecretAccessKey"] = "plain";
        assert.equal(validate(doc), false);
        assert.ok(
            errors(doc).includes("/config/observability:s3SecretAccessKey must be object"),
            errors(doc).join("\n"),
        );
    });

    it("flags a misspelled key and a key of the other role", () => {
        const doc = load(path.join(projectDir, "Pulumi.sub.yaml")) as { config: Record<string, unknown> };
        assert.equal(validate({ config: { ...doc.config, "observability:retension": {} } }), false);
        assert.equal(validate({ config: { ...doc.config, "observability:subClusters": [] } }), false);
    });

    it("flags a value the program would reject", () => {
        const doc = load(path.join(projectDir, "Pulumi.main.yaml")) as { config: Record<string, unknown> };
        assert.equal(validate({ config: { ...doc.config, "observability:profile": "huge" } }), false);
        assert.equal(validate({ config: { ...doc.config, "observability:cluster": { name: "Main" } } }), false);
    });
});
