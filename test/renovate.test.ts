import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import { charts, images } from "../components/core/versions";
import { projectDir } from "./helpers";

/**
 * renovate.json against the pins it is meant to update: its regex custom managers are run here the
 * way Renovate runs them (each match string as a global RegExp over the whole file; `recursive`
 * narrows match by match), and what they extract must be exactly the pins the code declares in
 * components/core/versions.ts and .pulumi.version, each with its brick. An updated file is simulated
 * too, as Renovate writes it, and extracted again.
 */

interface CustomManager {
    customType: string;
    description?: string;
    managerFilePatterns: string[];
    matchStrings: string[];
    matchStringsStrategy?: "any" | "recursive" | "combination";
    depNameTemplate?: string;
    datasourceTemplate?: string;
    depTypeTemplate?: string;
    extractVersionTemplate?: string;
    autoReplaceStringTemplate?: string;
}

interface PackageRule {
    description?: string;
    matchDepTypes?: string[];
    matchManagers?: string[];
    matchPackageNames?: string[];
    matchDatasources?: string[];
    matchUpdateTypes?: string[];
    groupName?: string;
    automerge?: boolean;
    pinDigests?: boolean;
    addLabels?: string[];
}

interface RenovateConfig {
    extends?: string[];
    enabledManagers?: string[];
    schedule?: string[];
    timezone?: string;
    dependencyDashboard?: boolean;
    prConcurrentLimit?: number;
    labels?: string[];
    automerge?: boolean;
    platformAutomerge?: boolean;
    "github-actions"?: { pinDigests?: boolean };
    customManagers: CustomManager[];
    packageRules: PackageRule[];
}

/** A dependency as Renovate's regex manager records it (the fields this test looks at). */
interface Dep {
    depName?: string;
    currentValue?: string;
    currentDigest?: string;
    datasource?: string;
    registryUrls?: string[];
    depType?: string;
    extractVersion?: string;
    replaceString: string;
}

const config = JSON.parse(fs.readFileSync(path.join(projectDir, "renovate.json"), "utf8")) as RenovateConfig;
const VERSIONS_FILE = "components/core/versions.ts";
const PULUMI_VERSION_FILE = ".pulumi.version";

// ---------------------------------------------------------------------------------------------
// Renovate's regex manager, as far as this configuration uses it.

/** The fields a match string's named groups or a `<field>Template` may set. */
const MATCH_FIELDS = ["depName", "currentValue", "currentDigest", "datasource", "registryUrl", "depType"] as const;
const TEMPLATED_FIELDS = [...MATCH_FIELDS, "extractVersion"] as const;

/**
 * Renovate's templates are Handlebars without HTML escaping; the ones here use only `{{name}}`,
 * `{{{name}}}` and `{{#if name}}…{{/if}}`, and anything else fails this test rather than being
 * guessed at.
 */
function compile(template: string, input: Readonly<Record<string, unknown>>): string {
    const value = (name: string): string => {
        const found = input[name];
        return found === undefined || found === null ? "" : String(found);
    };
    const withIfs = template.replace(/\{\{#if (\w+)\}\}(.*?)\{\{\/if\}\}/gs, (_, name: string, body: string) =>
        value(name) === "" ? "" : body,
    );
    const out = withIfs.replace(/\{\{\{(\w+)\}\}\}|\{\{(\w+)\}\}/g, (_, a?: string, b?: string) => value(a ?? b ?? ""));
    assert.ok(!out.includes("{{"), `template construct this test does not model: ${template}`);
    return out;
}

/** The dependency one match (or chain of matches) describes, or undefined when Renovate discards it. */
function createDep(manager: CustomManager, groups: Record<string, string | undefined>, replaceString: string) {
    const dep: Dep = { replaceString };
    const templates = manager as unknown as Record<string, string | undefined>;
    for (const field of TEMPLATED_FIELDS) {
        const template = templates[`${field}Template`];
        const raw = template !== undefined ? compile(template, groups) : groups[field];
        if (raw === undefined || raw === "") continue;
        // Renovate keeps a registry URL as a list of parsed, normalised URLs.
        if (field === "registryUrl") dep.registryUrls = [new URL(raw).toString()];
        else dep[field] = raw;
    }
    const present = (s?: string): boolean => s !== undefined && s.trim() !== "";
    const valid = present(dep.depName) && (present(dep.currentValue) || present(dep.currentDigest));
    return valid && present(dep.datasource) ? dep : undefined;
}

function matchAll(matchString: string, content: string): RegExpExecArray[] {
    return [...content.matchAll(new RegExp(matchString, "g"))];
}

/** One custom manager over one file's content, in its matchStringsStrategy. */
function extract(manager: CustomManager, content: string): Dep[] {
    const strategy = manager.matchStringsStrategy ?? "any";
    const deps: (Dep | undefined)[] = [];
    if (strategy === "any") {
        for (const matchString of manager.matchStrings) {
            for (const match of matchAll(matchString, content))
                deps.push(createDep(manager, { ...match.groups }, match[0]));
        }
    } else if (strategy === "recursive") {
        const recurse = (text: string, level: number, groups: Record<string, string | undefined>): void => {
            const matchString = manager.matchStrings[level];
            if (matchString === undefined) {
                deps.push(createDep(manager, groups, text));
                return;
            }
            for (const match of matchAll(matchString, text))
                recurse(match[0], level + 1, { ...groups, ...match.groups });
        };
        recurse(content, 0, {});
    } else {
        assert.fail(`matchStringsStrategy ${strategy} is not modelled by this test`);
    }
    return deps.filter((dep): dep is Dep => dep !== undefined);
}

/** Whether a managerFilePatterns entry matches a repository path; only `/regex/` patterns are used here. */
function fileMatches(pattern: string, file: string): boolean {
    const regex = /^(!?)\/(.*)\/(i?)$/s.exec(pattern);
    assert.ok(regex, `managerFilePatterns entry ${pattern}: this test models only /regex/ patterns, not globs`);
    const [, negated, source = "", flags] = regex;
    return new RegExp(source, flags).test(file) !== (negated === "!");
}

const matchesAny = (manager: CustomManager, file: string): boolean =>
    manager.managerFilePatterns.some((pattern) => fileMatches(pattern, file));

/** The repository's files, by their path from its root with `/`; ignored build output left out. */
function repositoryFiles(): string[] {
    const skip = new Set([".git", "node_modules", "bin", "rendered"]);
    const out: string[] = [];
    const walk = (dir: string): void => {
        for (const entry of fs.readdirSync(path.join(projectDir, dir), { withFileTypes: true })) {
            const rel = dir === "" ? entry.name : `${dir}/${entry.name}`;
            if (entry.isDirectory()) {
                if (!skip.has(entry.name)) walk(rel);
            } else if (entry.isFile()) out.push(rel);
        }
    };
    walk("");
    return out.sort();
}

interface Extracted extends Dep {
    file: string;
    manager: number;
    index: number;
}

const regexManagers = config.customManagers.filter((m) => m.customType === "regex");

function extractFile(file: string, content: string): Extracted[] {
    return regexManagers.flatMap((manager, m) =>
        matchesAny(manager, file)
            ? extract(manager, content).map((dep, index) => ({ ...dep, file, manager: m, index }))
            : [],
    );
}

const files = repositoryFiles();
const extracted: Extracted[] = files.flatMap((file) =>
    regexManagers.some((manager) => matchesAny(manager, file))
        ? extractFile(file, fs.readFileSync(path.join(projectDir, file), "utf8"))
        : [],
);

// ---------------------------------------------------------------------------------------------
// The pins, from the code itself.

interface Pin {
    /** Where the pin is declared, for messages: `charts.loki`, `images.node`, `.pulumi.version`. */
    source: string;
    file: string;
    depName: string;
    currentValue: string;
    currentDigest?: string;
    datasource: string;
    registryUrls?: string[];
}

/** `<repository>:<tag>[@<digest>]`, the registry host without a port. */
function parseImage(source: string, reference: string): { depName: string; tag: string; digest?: string } {
    const found = /^([^:@]+):([^:@]+)(?:@(sha256:[0-9a-f]{64}))?$/.exec(reference);
    assert.ok(found?.[1] && found[2], `${source}: ${reference} is not <repository>:<tag>[@sha256:<digest>]`);
    return { depName: found[1], tag: found[2], ...(found[3] !== undefined ? { digest: found[3] } : {}) };
}

function imagePin(key: string, value: unknown): Pin {
    const source = `images.${key}`;
    let reference: string;
    if (typeof value === "string") reference = value;
    else if (typeof value === "object" && value !== null && "repository" in value && "tag" in value) {
        reference = `${String(value.repository)}:${String(value.tag)}`;
    } else {
        assert.fail(`${source}: an image shape this test does not know; teach pins() how to read it`);
    }
    const image = parseImage(source, reference);
    return {
        source,
        file: VERSIONS_FILE,
        depName: image.depName,
        currentValue: image.tag,
        ...(image.digest !== undefined ? { currentDigest: image.digest } : {}),
        datasource: "docker",
    };
}

const pulumiVersion = fs.readFileSync(path.join(projectDir, PULUMI_VERSION_FILE), "utf8");

function pins(): Pin[] {
    return [
        ...Object.entries(charts).map(([key, pin]): Pin => ({
            source: `charts.${key}`,
            file: VERSIONS_FILE,
            depName: pin.chart,
            currentValue: pin.version,
            datasource: "helm",
            registryUrls: [new URL(pin.repo).toString()],
        })),
        ...Object.entries(images).map(([key, value]) => imagePin(key, value)),
        {
            source: PULUMI_VERSION_FILE,
            file: PULUMI_VERSION_FILE,
            depName: "pulumi/pulumi",
            currentValue: pulumiVersion.trim(),
            datasource: "github-releases",
        },
    ];
}

/** The brick each pin's updates are grouped under (docs/updates.md). */
const BRICKS: Readonly<Record<string, string>> = {
    "charts.kubePrometheusStack": "metrics",
    "charts.thanos": "metrics",
    "charts.loki": "logs",
    "charts.vector": "logs",
    "charts.tempo": "traces",
    "charts.tempoDistributed": "traces",
    "charts.opentelemetryCollector": "traces",
    "charts.traefik": "traces",
    "images.otelCollector": "traces",
    "images.thanos": "metrics",
    "charts.grafana": "grafana",
    "images.nginxUnprivileged": "gateways",
    "images.node": "programs",
    ".pulumi.version": "pulumi",
};

/** The extracted dependencies a pin accounts for: same file, datasource and name. */
const extractedFor = (pin: Pin, from: readonly Extracted[] = extracted): Extracted[] =>
    from.filter((d) => d.file === pin.file && d.datasource === pin.datasource && d.depName === pin.depName);

// ---------------------------------------------------------------------------------------------

describe("renovate.json: the regex managers find every pin", () => {
    it("extracts every pin in the code exactly once, with its name, version, digest, datasource and registry", () => {
        for (const pin of pins()) {
            const found = extractedFor(pin);
            assert.equal(
                found.length,
                1,
                `${pin.source} (${pin.depName}) is extracted ${found.length} times: every pin in ${pin.file} needs ` +
                    "exactly one `// renovate: datasource=<datasource> brick=<brick>` comment right above its key",
            );
            const [dep] = found;
            assert.ok(dep);
            assert.deepEqual(
                {
                    depName: dep.depName,
                    currentValue: dep.currentValue,
                    currentDigest: dep.currentDigest,
                    datasource: dep.datasource,
                    registryUrls: dep.registryUrls,
                },
                {
                    depName: pin.depName,
                    currentValue: pin.currentValue,
                    currentDigest: pin.currentDigest,
                    datasource: pin.datasource,
                    registryUrls: pin.registryUrls,
                },
                pin.source,
            );
        }
    });

    it("puts every pin in its brick", () => {
        const all = pins();
        assert.deepEqual(all.map((p) => p.source).sort(), Object.keys(BRICKS).sort(), "a pin without a brick here");
        for (const pin of all) {
            assert.equal(extractedFor(pin)[0]?.depType, BRICKS[pin.source], `${pin.source}: brick`);
        }
    });

    it("extracts nothing that is not a pin", () => {
        const all = pins();
        const strays = extracted.filter((dep) => !all.some((pin) => extractedFor(pin, [dep]).length === 1));
        assert.deepEqual(strays, []);
    });

    it("reads the node image's digest next to its tag", () => {
        const node = extracted.find((d) => d.depName === parseImage("node", images.node).depName);
        assert.match(node?.currentDigest ?? "", /^sha256:[0-9a-f]{64}$/);
        assert.equal(node?.currentValue, "nonroot");
    });

    it("takes the Pulumi CLI version from a file of one version line, and strips the tags' v", () => {
        assert.match(pulumiVersion, /^\d+\.\d+\.\d+\n$/);
        const cli = extracted.find((d) => d.file === PULUMI_VERSION_FILE);
        assert.ok(cli?.extractVersion);
        assert.equal(cli.extractVersion, "^v(?<version>.*)$");
        const tag = new RegExp(cli.extractVersion).exec(`v${pulumiVersion.trim()}`);
        assert.equal(tag?.groups?.version, pulumiVersion.trim());
    });

    it("fails for a chart or an image added without the comment, or with the comment misplaced", () => {
        const content = fs.readFileSync(path.join(projectDir, VERSIONS_FILE), "utf8");
        const before = extractFile(VERSIONS_FILE, content).length;
        const chart =
            '    extra: {\n        chart: "extra",\n        version: "1.0.0",\n        repo: "https://charts.example.com",\n    },\n';
        const image = '    extra: "docker.io/example/extra:1.0.0",\n';
        const comment = (datasource: string): string => `    // renovate: datasource=${datasource} brick=logs\n`;
        const add = (list: "charts" | "images", entry: string): number => {
            const added = content.replace(`export const ${list} = {\n`, `export const ${list} = {\n${entry}`);
            assert.notEqual(added, content);
            return extractFile(VERSIONS_FILE, added).length;
        };
        assert.equal(add("charts", chart), before);
        assert.equal(add("charts", `${comment("helm")}    /** Doc. */\n${chart}`), before);
        assert.equal(add("images", image), before);
        // The same entries with the comment in its place are found: the checks above are not vacuous.
        assert.equal(add("charts", comment("helm") + chart), before + 1);
        assert.equal(add("images", comment("docker") + image), before + 1);
    });

    it("uses only regular expressions RE2 accepts: no lookaround, no backreferences", () => {
        for (const manager of regexManagers) {
            for (const matchString of manager.matchStrings) {
                assert.doesNotMatch(matchString, /\(\?<?[=!]|\\[1-9]|\\k</, matchString);
            }
        }
    });
});

describe("renovate.json: file patterns", () => {
    it("select components/core/versions.ts and .pulumi.version, and no other file of the repository", () => {
        const selected = new Set<string>();
        regexManagers.forEach((manager, m) => {
            const matched = files.filter((file) => matchesAny(manager, file));
            const used = [...new Set(extracted.filter((d) => d.manager === m).map((d) => d.file))].sort();
            assert.ok(used.length > 0, `${manager.description}: extracts nothing`);
            assert.deepEqual(matched, used, `${manager.description}: selects files it extracts nothing from`);
            matched.forEach((file) => selected.add(file));
        });
        assert.deepEqual([...selected].sort(), [PULUMI_VERSION_FILE, VERSIONS_FILE]);
    });

    it("are anchored: neither a copy elsewhere nor a longer name matches", () => {
        for (const manager of regexManagers) {
            for (const file of [
                `x/${VERSIONS_FILE}`,
                `${VERSIONS_FILE}.orig`,
                "components/versions.tsx",
                `x/${PULUMI_VERSION_FILE}`,
                `${PULUMI_VERSION_FILE}.orig`,
                "pulumi.version",
            ]) {
                assert.equal(matchesAny(manager, file), false, `${manager.description}: ${file}`);
            }
        }
    });

    it("keep the managers for package.json, the GitHub workflows and .gitlab-ci.yml enabled", () => {
        assert.deepEqual([...(config.enabledManagers ?? [])].sort(), [
            "custom.regex",
            "github-actions",
            "gitlabci",
            "npm",
        ]);
    });
});

// ---------------------------------------------------------------------------------------------
// Updates: the file as Renovate rewrites it (the replaceString, or its template), read again.

interface Update {
    newValue: string;
    newDigest?: string;
}

/** Renovate's auto-replace: the first occurrence of the match, rewritten by the template or in place. */
function applyUpdate(content: string, manager: CustomManager, dep: Extracted, update: Update): string {
    const at = content.indexOf(dep.replaceString);
    assert.ok(at >= 0, "replaceString not found");
    let replacement: string;
    if (manager.autoReplaceStringTemplate !== undefined) {
        replacement = compile(manager.autoReplaceStringTemplate, { ...dep, ...update });
    } else {
        assert.ok(update.newDigest === undefined || dep.currentDigest !== undefined, "no template to add a digest");
        replacement = dep.replaceString.replace(dep.currentValue ?? "", update.newValue);
        if (dep.currentDigest !== undefined && update.newDigest !== undefined) {
            replacement = replacement.replace(dep.currentDigest, update.newDigest);
        }
    }
    return content.slice(0, at) + replacement + content.slice(at + dep.replaceString.length);
}

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("renovate.json: updates are written back in a form the managers read again", () => {
    const contents = new Map(
        [VERSIONS_FILE, PULUMI_VERSION_FILE].map((f) => [f, fs.readFileSync(path.join(projectDir, f), "utf8")]),
    );

    /** What an extracted dependency says, without where the match was. */
    const view = (d: Extracted) => ({
        file: d.file,
        manager: d.manager,
        index: d.index,
        depName: d.depName,
        currentValue: d.currentValue,
        currentDigest: d.currentDigest,
        datasource: d.datasource,
        registryUrls: d.registryUrls,
        depType: d.depType,
        extractVersion: d.extractVersion,
    });

    /** The update applied, the file extracted again: the one pin changed as expected, all others as they were. */
    /**
     * The update applied to `content` (the file as it is unless given), the result extracted again:
     * the one pin changed as expected, all others as they were.
     */
    function check(
        dep: Extracted,
        update: Update,
        expectedDigest: string | undefined,
        content = contents.get(dep.file),
    ) {
        const manager = regexManagers[dep.manager];
        assert.ok(manager && content !== undefined);
        const updated = applyUpdate(content, manager, dep, update);
        const expected = extractFile(dep.file, content).map((d) =>
            d.manager === dep.manager && d.index === dep.index
                ? { ...view(d), currentValue: update.newValue, currentDigest: expectedDigest }
                : view(d),
        );
        assert.deepEqual(
            extractFile(dep.file, updated).map(view),
            expected,
            `${dep.depName}: ${JSON.stringify(update)}`,
        );
        return updated;
    }

    it("bumps every version in place and leaves every other pin alone", () => {
        // A pin with a digest moves to a new tag with that tag's digest: Renovate looks both up.
        for (const dep of extracted) {
            const newDigest = dep.currentDigest !== undefined ? DIGEST : undefined;
            check(dep, { newValue: "99.1.0", ...(newDigest !== undefined ? { newDigest } : {}) }, newDigest);
        }
    });

    it("replaces the digest of every image pinned by digest", () => {
        for (const dep of extracted.filter((d) => d.currentDigest !== undefined)) {
            check(dep, { newValue: dep.currentValue ?? "", newDigest: DIGEST }, DIGEST);
        }
    });

    // Whether or not Renovate has pinned them yet: the digests are taken out of the file first.
    const tagOnly = (contents.get(VERSIONS_FILE) ?? "").replace(/@sha256:[0-9a-f]{64}/g, "");
    const tagOnlyImages = extractFile(VERSIONS_FILE, tagOnly).filter((d) => d.datasource === "docker");

    it("pins a digest to every image given by tag alone, and keeps it through a later version bump", () => {
        assert.equal(tagOnlyImages.length, Object.keys(images).length);
        for (const dep of tagOnlyImages) {
            assert.equal(dep.currentDigest, undefined);
            const pinned = check(dep, { newValue: dep.currentValue ?? "", newDigest: DIGEST }, DIGEST, tagOnly);
            const [again] = extractFile(VERSIONS_FILE, pinned).filter(
                (d) => d.manager === dep.manager && d.index === dep.index,
            );
            assert.ok(again);
            check(again, { newValue: "99.1.0", newDigest: DIGEST.replace("0", "f") }, DIGEST.replace("0", "f"), pinned);
        }
    });

    it("writes a pinned image as one reference, and the collector's digest into its tag", () => {
        const pin = (depName: string): string => {
            const dep = tagOnlyImages.find((d) => d.depName === depName);
            assert.ok(dep, depName);
            const manager = regexManagers[dep.manager];
            assert.ok(manager);
            return applyUpdate(tagOnly, manager, dep, { newValue: dep.currentValue ?? "", newDigest: DIGEST });
        };
        const nginx = parseImage("nginx", images.nginxUnprivileged);
        assert.ok(pin(nginx.depName).includes(`    nginxUnprivileged: "${nginx.depName}:${nginx.tag}@${DIGEST}",\n`));
        const collector = parseImage("collector", `${images.otelCollector.repository}:${images.otelCollector.tag}`);
        assert.ok(pin(collector.depName).includes(`        tag: "${collector.tag}@${DIGEST}",\n`));
    });
});

// ---------------------------------------------------------------------------------------------

describe("renovate.json: grouping, schedule and the merge gate", () => {
    const bricks = [...new Set(extracted.map((d) => d.depType ?? ""))].sort();

    it("gives every brick exactly one group of its own, and has no group for a brick nobody uses", () => {
        const groups = new Map<string, string>();
        for (const brick of bricks) {
            const rules = config.packageRules.filter((r) => r.matchDepTypes?.includes(brick));
            assert.equal(rules.length, 1, `brick ${brick}: one package rule with matchDepTypes [${brick}]`);
            const [rule] = rules;
            assert.equal(rule?.groupName, brick, `brick ${brick}: groupName`);
            assert.ok(rule?.addLabels?.includes(`brick:${brick}`), `brick ${brick}: label`);
            groups.set(brick, rule.groupName);
        }
        assert.equal(new Set(groups.values()).size, bricks.length);
        const used = config.packageRules.flatMap((r) => r.matchDepTypes ?? []);
        assert.deepEqual([...new Set(used)].sort(), bricks);
        assert.deepEqual(bricks, ["gateways", "grafana", "logs", "metrics", "programs", "pulumi", "traces"]);
    });

    it("groups the @pulumi/* npm packages with the Pulumi CLI", () => {
        const rule = config.packageRules.find((r) => r.matchPackageNames?.includes("@pulumi/**"));
        assert.deepEqual(rule?.matchManagers, ["npm"]);
        assert.equal(rule?.groupName, BRICKS[PULUMI_VERSION_FILE]);
    });

    it("pins digests: of the actions, and of every image pinned by tag alone", () => {
        assert.equal(config["github-actions"]?.pinDigests, true);
        const docker = config.packageRules.find((r) => r.matchDatasources?.includes("docker") && r.pinDigests);
        assert.ok(docker, "a rule with matchDatasources [docker] and pinDigests");
    });

    it("never merges by itself, major updates least of all", () => {
        assert.equal(config.automerge, false);
        assert.ok(!config.packageRules.some((r) => r.automerge === true), "a package rule enables automerge");
        const major = config.packageRules.find((r) => r.matchUpdateTypes?.includes("major"));
        assert.equal(major?.automerge, false);
    });

    it("runs weekly with a dependency dashboard, labels and a limit on open pull requests", () => {
        assert.equal(config.dependencyDashboard, true);
        assert.ok((config.schedule ?? []).length > 0);
        assert.ok(typeof config.prConcurrentLimit === "number" && config.prConcurrentLimit > 0);
        assert.ok((config.labels ?? []).length > 0);
    });
});
