//! What the checker knows of rivet's `common` and `dev` schemas, plus this
//! project's extension fields for verification features.

pub const VERIFIES: &str = "verifies";
pub const SATISFIES: &str = "satisfies";
pub const TRACES_TO: &str = "traces-to";
pub const METHOD: &str = "method";
pub const TESTS: &str = "tests";
pub const PROOFS: &str = "proofs";
pub const SOURCE_REF: &str = "source-ref";
pub const REQUIREMENT: &str = "requirement";
pub const FORMAL: &str = "formal-verification";

/// The link types of rivet's `common` schema (the inverses are computed).
pub const COMMON_LINKS: &[&str] = &[
    "traces-to",
    "satisfies",
    "refines",
    "verifies",
    "implements",
    "derives-from",
    "mitigates",
    "allocated-to",
    "constrained-by",
];

/// aspice's verification methods, used by our verification features.
pub const METHODS: &[&str] =
    &["automated-test", "manual-test", "review", "static-analysis", FORMAL, "simulation", "inspection", "walkthrough"];

pub struct LinkField {
    pub link: &'static str,
    pub targets: &'static [&'static str],
    pub required: bool,
}

pub struct TypeDef {
    pub name: &'static str,
    pub required: &'static [&'static str],
    /// Every field the type knows, with its allowed values (empty: any).
    pub fields: &'static [(&'static str, &'static [&'static str])],
    pub links: &'static [LinkField],
}

pub struct Schema {
    pub name: &'static str,
    pub types: &'static [TypeDef],
    pub links: &'static [&'static str],
}

/// rivet's `dev` schema (0.1.0), plus this project's extension fields on
/// `feature` (`method`, `tests`, `proofs`, `source-ref`), declared in a
/// comment of `rivet.yaml`.
pub const DEV_TYPES: &[TypeDef] = &[
    TypeDef {
        name: REQUIREMENT,
        required: &[],
        fields: &[
            ("priority", &["must", "should", "could", "wont"]),
            ("category", &["functional", "non-functional", "constraint", "interface"]),
            ("cited-source", &[]),
        ],
        links: &[
            LinkField { link: SATISFIES, targets: &[REQUIREMENT], required: false },
            LinkField { link: "derives-from", targets: &[REQUIREMENT], required: false },
        ],
    },
    TypeDef {
        name: "design-decision",
        required: &["rationale"],
        fields: &[("rationale", &[]), ("alternatives", &[]), (SOURCE_REF, &[])],
        links: &[LinkField { link: SATISFIES, targets: &[REQUIREMENT], required: true }],
    },
    TypeDef {
        name: "feature",
        required: &[],
        fields: &[
            ("phase", &["phase-1", "phase-2", "phase-3", "future"]),
            ("acceptance-criteria", &[]),
            (SOURCE_REF, &[]),
            (METHOD, METHODS),
            (TESTS, &[]),
            (PROOFS, &[]),
        ],
        links: &[
            LinkField { link: SATISFIES, targets: &[REQUIREMENT], required: false },
            LinkField { link: "implements", targets: &[REQUIREMENT, "design-decision"], required: false },
        ],
    },
];

pub const SCHEMAS: &[Schema] = &[
    Schema { name: "common", types: &[], links: COMMON_LINKS },
    Schema { name: "dev", types: DEV_TYPES, links: &["depends-on"] },
];
