//! AWS managed rule groups (`ManagedRuleGroupStatement`, vendor `AWS`), as Causeway renders
//! them: each group is the rules AWS's developer guide describes for it, with AWS's rule
//! names, labels, actions and capacity, written as ordinary WAF statements. AWS does not
//! publish its signatures, so what a rule matches beyond what the guide says (sizes,
//! detection statements, the example patterns it names) is this server's choice, and can
//! differ from AWS's. Groups that need AWS's threat data (IP reputation, anonymous IP lists,
//! bot control, fraud prevention, DDoS) are refused.

use serde_json::{Value, json};

use super::WafError;

/// A managed rule group this server evaluates.
pub(super) struct Managed {
    pub name: &'static str,
    /// The WCUs AWS gives the group.
    pub capacity: u64,
    /// The namespace of its rules' labels (`awswaf:managed:aws:core-rule-set:`).
    pub namespace: &'static str,
    /// What ListAvailableManagedRuleGroups says of it.
    pub description: &'static str,
    /// Its rules, as WAF's JSON.
    pub rules: fn() -> Vec<Value>,
}

/// AWS's managed rule groups this server does not render: those that need AWS's threat data
/// (IP reputation, anonymous IP lists, bot control, fraud prevention, DDoS).
const NOT_HERE: &[&str] = &[
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesBotControlRuleSet",
    "AWSManagedRulesATPRuleSet",
    "AWSManagedRulesACFPRuleSet",
    "AWSManagedRulesAntiDDoSRuleSet",
];

const GROUPS: &[Managed] = &[
    Managed {
        name: "AWSManagedRulesCommonRuleSet",
        capacity: 700,
        namespace: "awswaf:managed:aws:core-rule-set:",
        description: "Rules generally applicable to web applications: missing user agents, oversize requests, EC2 metadata exfiltration, file inclusion, restricted extensions and cross-site scripting.",
        rules: core_rule_set,
    },
    Managed {
        name: "AWSManagedRulesSQLiRuleSet",
        capacity: 200,
        namespace: "awswaf:managed:aws:sql-database:",
        description: "Rules against SQL injection in query arguments, the body, cookies and the URI path.",
        rules: sql_database,
    },
    Managed {
        name: "AWSManagedRulesKnownBadInputsRuleSet",
        capacity: 200,
        namespace: "awswaf:managed:aws:known-bad-inputs:",
        description: "Rules against request patterns known to be invalid and tied to exploits: Java deserialization, Log4j lookups, localhost Host headers, PROPFIND and exploitable paths.",
        rules: known_bad_inputs,
    },
    Managed {
        name: "AWSManagedRulesLinuxRuleSet",
        capacity: 200,
        namespace: "awswaf:managed:aws:linux-os:",
        description: "Rules against Linux-specific local file inclusion.",
        rules: linux_os,
    },
    Managed {
        name: "AWSManagedRulesUnixRuleSet",
        capacity: 100,
        namespace: "awswaf:managed:aws:posix-os:",
        description: "Rules against shell commands and variables in requests to POSIX systems.",
        rules: posix_os,
    },
    Managed {
        name: "AWSManagedRulesWindowsRuleSet",
        capacity: 200,
        namespace: "awswaf:managed:aws:windows-os:",
        description: "Rules against Windows shell and PowerShell command injection.",
        rules: windows_os,
    },
    Managed {
        name: "AWSManagedRulesPHPRuleSet",
        capacity: 100,
        namespace: "awswaf:managed:aws:php-app:",
        description: "Rules against PHP code injection: high-risk functions and superglobals.",
        rules: php_app,
    },
    Managed {
        name: "AWSManagedRulesWordPressRuleSet",
        capacity: 100,
        namespace: "awswaf:managed:aws:wordpress-app:",
        description: "Rules against exploitable WordPress commands and files.",
        rules: wordpress_app,
    },
    Managed {
        name: "AWSManagedRulesAdminProtectionRuleSet",
        capacity: 100,
        namespace: "awswaf:managed:aws:admin-protection:",
        description: "Rules against external access to administration paths.",
        rules: admin_protection,
    },
];

/// A managed rule group as DescribeManagedRuleGroup and ListAvailableManagedRuleGroups show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub name: &'static str,
    pub description: &'static str,
    pub capacity: u64,
    pub label_namespace: &'static str,
    /// Each rule's name and whole label, in order.
    pub rules: Vec<(String, String)>,
}

impl Managed {
    fn described(&self) -> Described {
        let rules = (self.rules)()
            .iter()
            .map(|rule| {
                let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
                let label = rule["RuleLabels"][0]["Name"].as_str().unwrap_or_default();
                (text(&rule["Name"]), format!("{}{label}", self.namespace))
            })
            .collect();
        Described {
            name: self.name,
            description: self.description,
            capacity: self.capacity,
            label_namespace: self.namespace,
            rules,
        }
    }
}

/// Every managed rule group this server renders.
pub fn available() -> Vec<Described> {
    GROUPS.iter().map(Managed::described).collect()
}

/// The managed rule group `vendor`/`name`, described, or why it cannot be used.
pub fn describe(vendor: &str, name: &str) -> Result<Described, WafError> {
    find(vendor, name).map(Managed::described)
}

/// The managed rule group `vendor`/`name`, or why it cannot be used.
pub(super) fn find(vendor: &str, name: &str) -> Result<&'static Managed, WafError> {
    if vendor != "AWS" {
        return Err(WafError::nonexistent());
    }
    if let Some(group) = GROUPS.iter().find(|group| group.name == name) {
        return Ok(group);
    }
    if NOT_HERE.contains(&name) {
        return Err(WafError::unsupported(&format!(
            "ManagedRuleGroupStatement AWS/{name}"
        )));
    }
    Err(WafError::nonexistent())
}

/// A rule of a managed group: `statement`, blocking, labelled `label` (in the group's
/// namespace).
fn rule(name: &str, priority: usize, label: &str, statement: Value) -> Value {
    json!({"Name": name, "Priority": priority, "Action": {"Block": {}}, "RuleLabels": [{"Name": label}],
           "Statement": statement,
           "VisibilityConfig": {"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": name}})
}

/// Text transformations: none, or URL then HTML entity decoding.
fn transforms(decode: bool) -> Value {
    if decode {
        json!([{"Priority": 0, "Type": "URL_DECODE"}, {"Priority": 1, "Type": "HTML_ENTITY_DECODE"}])
    } else {
        json!([{"Priority": 0, "Type": "NONE"}])
    }
}

fn regex(pattern: &str, field: Value, decode: bool) -> Value {
    json!({"RegexMatchStatement": {"RegexString": pattern, "FieldToMatch": field,
        "TextTransformations": transforms(decode)}})
}

fn size_over(size: u64, field: Value) -> Value {
    json!({"SizeConstraintStatement": {"FieldToMatch": field, "ComparisonOperator": "GT",
        "Size": size, "TextTransformations": transforms(false)}})
}

fn header(name: &str) -> Value {
    json!({"SingleHeader": {"Name": name}})
}

fn body() -> Value {
    json!({"Body": {"OversizeHandling": "CONTINUE"}})
}

fn cookies() -> Value {
    json!({"Cookies": {"MatchPattern": {"All": {}}, "MatchScope": "ALL", "OversizeHandling": "CONTINUE"}})
}

fn headers() -> Value {
    json!({"Headers": {"MatchPattern": {"All": {}}, "MatchScope": "ALL", "OversizeHandling": "CONTINUE"}})
}

fn uri_path() -> Value {
    json!({"UriPath": {}})
}

fn query_arguments() -> Value {
    json!({"AllQueryArguments": {}})
}

fn query_string() -> Value {
    json!({"QueryString": {}})
}

/// The fields a rule family inspects: the rule's name suffix, its label suffix, the field.
fn places(which: &[&str]) -> Vec<(&'static str, &'static str, Value)> {
    let all = [
        ("BODY", "Body", body()),
        ("COOKIE", "Cookie", cookies()),
        ("URIPATH", "URIPath", uri_path()),
        ("QUERYARGUMENTS", "QueryArguments", query_arguments()),
        ("QUERYSTRING", "QueryString", query_string()),
        ("HEADER", "Header", headers()),
    ];
    all.into_iter()
        .filter(|(suffix, _, _)| which.contains(suffix))
        .collect()
}

/// Rules of `statement` over each of `which` fields, named `{prefix}_{FIELD}` and labelled
/// `{label}_{Field}`, in the order given.
fn family(
    out: &mut Vec<Value>,
    (prefix, label): (&str, &str),
    which: &[&str],
    statement: impl Fn(Value) -> Value,
) {
    for name in which {
        for (suffix, label_suffix, field) in places(&[name]) {
            let priority = out.len();
            out.push(rule(
                &format!("{prefix}_{suffix}"),
                priority,
                &format!("{label}_{label_suffix}"),
                statement(field),
            ));
        }
    }
}

/// Address patterns of instance metadata services (EC2's, over IPv4 and IPv6, and the
/// names it is reached by).
const METADATA: &str = r"(?i)(169\.254\.169\.254|\[?fd00:ec2::254\]?|instance-data(\.ec2\.internal)?[:/]|metadata\.google\.internal)";
/// Path traversal: `../` or `..\` (decoded).
const TRAVERSAL: &str = r"(\.\.[/\\])|([/\\]\.\.$)";
/// System and configuration file extensions at the end of a value or path.
const EXTENSIONS: &str = r"(?i)\.(log|ini|conf|cfg|config|bak|backup|old|orig|sql|swp|env|htaccess|htpasswd|pem|key|db|sqlite|mdb|cmd|bat|sh|ps1)$";
/// A URL whose host is an IPv4 address, as remote file inclusion embeds.
const REMOTE_FILE: &str = r"(?i)(https?|ftps?|file)://\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}";
/// User agents of scanning tools.
const BAD_BOTS: &str = r"(?i)(nessus|nmap|nikto|sqlmap|masscan|zgrab|w3af|acunetix|netsparker|dirbuster|gobuster|openvas|nuclei|wpscan)";

/// The core rule set: the documented rules in AWS's order.
fn core_rule_set() -> Vec<Value> {
    let mut rules = vec![
        // A request without a User-Agent header (one with an empty value has one).
        rule(
            "NoUserAgent_HEADER",
            0,
            "NoUserAgent_Header",
            json!({"NotStatement": {"Statement": {"SizeConstraintStatement": {"FieldToMatch": header("user-agent"),
                "ComparisonOperator": "GE", "Size": 0, "TextTransformations": transforms(false)}}}}),
        ),
        rule(
            "UserAgent_BadBots_HEADER",
            1,
            "BadBots_Header",
            regex(BAD_BOTS, header("user-agent"), false),
        ),
        rule(
            "SizeRestrictions_QUERYSTRING",
            2,
            "SizeRestrictions_QueryString",
            size_over(2_048, query_string()),
        ),
        rule(
            "SizeRestrictions_Cookie_HEADER",
            3,
            "SizeRestrictions_Cookie_Header",
            size_over(10_240, header("cookie")),
        ),
        rule(
            "SizeRestrictions_BODY",
            4,
            "SizeRestrictions_Body",
            size_over(8_192, body()),
        ),
        rule(
            "SizeRestrictions_URIPATH",
            5,
            "SizeRestrictions_URIPath",
            size_over(1_024, uri_path()),
        ),
    ];
    family(
        &mut rules,
        ("EC2MetaDataSSRF", "EC2MetaDataSSRF"),
        &["BODY", "COOKIE", "URIPATH", "QUERYARGUMENTS"],
        |field| regex(METADATA, field, true),
    );
    family(
        &mut rules,
        ("GenericLFI", "GenericLFI"),
        &["QUERYARGUMENTS", "URIPATH", "BODY"],
        |field| regex(TRAVERSAL, field, true),
    );
    family(
        &mut rules,
        ("RestrictedExtensions", "RestrictedExtensions"),
        &["URIPATH", "QUERYARGUMENTS"],
        |field| regex(EXTENSIONS, field, true),
    );
    family(
        &mut rules,
        ("GenericRFI", "GenericRFI"),
        &["QUERYARGUMENTS", "BODY", "URIPATH"],
        |field| regex(REMOTE_FILE, field, true),
    );
    family(
        &mut rules,
        ("CrossSiteScripting", "CrossSiteScripting"),
        &["COOKIE", "QUERYARGUMENTS", "BODY", "URIPATH"],
        |field| json!({"XssMatchStatement": {"FieldToMatch": field, "TextTransformations": transforms(true)}}),
    );
    rules
}

/// The SQL database group: the built-in statement at LOW on each field, and its extended
/// patterns, which this server renders as HIGH sensitivity (what LOW lets through). The
/// newest guide also lists `SQLiExtendedPatterns_HEADER` and `_URIPATH` without saying what
/// they inspect; they are not here.
fn sql_database() -> Vec<Value> {
    let sqli = |field: Value, level: &str| {
        json!({"SqliMatchStatement": {"FieldToMatch": field, "SensitivityLevel": level,
            "TextTransformations": transforms(true)}})
    };
    vec![
        rule(
            "SQLi_QUERYARGUMENTS",
            0,
            "SQLi_QueryArguments",
            sqli(query_arguments(), "LOW"),
        ),
        rule(
            "SQLiExtendedPatterns_QUERYARGUMENTS",
            1,
            "SQLiExtendedPatterns_QueryArguments",
            sqli(query_arguments(), "HIGH"),
        ),
        rule("SQLi_BODY", 2, "SQLi_Body", sqli(body(), "LOW")),
        rule(
            "SQLiExtendedPatterns_BODY",
            3,
            "SQLiExtendedPatterns_Body",
            sqli(body(), "HIGH"),
        ),
        rule("SQLi_COOKIE", 4, "SQLi_Cookie", sqli(cookies(), "LOW")),
        rule("SQLi_URIPATH", 5, "SQLi_URIPath", sqli(uri_path(), "LOW")),
    ]
}

/// Java deserialization and expression-injection shapes (Spring4Shell, Spring Cloud
/// Function, `Runtime.exec`).
const JAVA_RCE: &str = r"(?i)(java\.lang\.(runtime|processbuilder|class)|getruntime\(\)|\.exec\(|class\.module\.classloader|spring\.cloud\.function\.routing-expression|T\(java\.)";
/// Log4j lookups: `${jndi:...}` and its obfuscations (`${${lower:j}ndi:`, `${::-j}`).
const LOG4J: &str = r"(?i)\$\{([^}]*(jndi|\$\{|lower:|upper:|::-|env:|sys:))";
/// Paths of application internals that should never be served.
const EXPLOITABLE_PATHS: &str = r"(?i)(web-inf|meta-inf|/\.git(/|$)|/\.svn(/|$)|/\.hg(/|$)|/\.env$|/\.aws/|/\.ssh/|/etc/passwd|/proc/self/)";

/// The known bad inputs group: the documented rules in AWS's order.
fn known_bad_inputs() -> Vec<Value> {
    let mut rules = Vec::new();
    family(
        &mut rules,
        ("JavaDeserializationRCE", "JavaDeserializationRCE"),
        &["HEADER", "BODY", "URIPATH", "QUERYSTRING"],
        |field| regex(JAVA_RCE, field, true),
    );
    let priority = rules.len();
    rules.push(rule(
        "Host_localhost_HEADER",
        priority,
        "Host_Localhost_Header",
        regex(
            r"(?i)^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$",
            header("host"),
            false,
        ),
    ));
    rules.push(rule("PROPFIND_METHOD", priority + 1, "Propfind_Method",
        json!({"ByteMatchStatement": {"SearchString": "UFJPUEZJTkQ=", "FieldToMatch": {"Method": {}},
            "TextTransformations": transforms(false), "PositionalConstraint": "EXACTLY"}})));
    rules.push(rule(
        "ExploitablePaths_URIPATH",
        priority + 2,
        "ExploitablePaths_URIPath",
        regex(EXPLOITABLE_PATHS, uri_path(), true),
    ));
    family(
        &mut rules,
        ("Log4JRCE", "Log4JRCE"),
        &["HEADER", "QUERYSTRING", "BODY", "URIPATH"],
        |field| regex(LOG4J, field, true),
    );
    rules
}

/// Paths that administer a web server or application.
const ADMIN_PATHS: &str = r"(?i)(^|/)(admin|administrator|wp-admin|phpmyadmin|sqlmanager|adminer|manager/html|cpanel|webadmin|siteadmin)(/|\.|$)";

/// The admin protection group.
fn admin_protection() -> Vec<Value> {
    vec![rule(
        "AdminProtection_URIPATH",
        0,
        "AdminProtection_URIPath",
        regex(ADMIN_PATHS, uri_path(), true),
    )]
}

/// Linux files that tell an attacker about the system (`/proc/version`, `/etc/passwd`, ...).
const LINUX_FILES: &str = r"(?i)(/proc/(self|version|cpuinfo|meminfo|mounts|\d+)(/|$)|/etc/(passwd|shadow|group|hosts|issue|os-release|crontab)|/var/log/|\.bash_history|/dev/(tcp|udp)/)";

/// The Linux operating system group.
fn linux_os() -> Vec<Value> {
    let mut rules = Vec::new();
    family(
        &mut rules,
        ("LFI", "LFI"),
        &["URIPATH", "QUERYSTRING", "HEADER"],
        |field| regex(LINUX_FILES, field, true),
    );
    rules
}

/// Shell variables and command substitutions (`echo $HOME`, `$(id)`, `; cat /etc/...`).
const UNIX_SHELL: &str = r"(?i)(\$\{?(home|path|shell|user|ifs|pwd)\b\}?|\$\([^)]*\)|`[^`]+`|[;&|]\s*(cat|wget|curl|nc|bash|sh|uname|id|whoami|echo)\b)";

/// The POSIX operating system group (its labels keep the rule names' upper case, as AWS's).
fn posix_os() -> Vec<Value> {
    vec![
        rule(
            "UNIXShellCommandsVariables_QUERYARGUMENTS",
            0,
            "UNIXShellCommandsVariables_QUERYARGUMENTS",
            regex(UNIX_SHELL, query_arguments(), true),
        ),
        rule(
            "UNIXShellCommandsVariables_BODY",
            1,
            "UNIXShellCommandsVariables_BODY",
            regex(UNIX_SHELL, body(), true),
        ),
    ]
}

/// Windows shell commands chained onto a value (`||nslookup`, `;cmd`, `& whoami`).
const WINDOWS_SHELL: &str = r"(?i)([;&|]|\|\|)\s*(cmd(\.exe)?|nslookup|ping|powershell(\.exe)?|whoami|net\s+(user|localgroup)|certutil|bitsadmin|systeminfo|tasklist)\b";
/// PowerShell commands that run or fetch code (`Invoke-Expression`, `IEX`, ...).
const POWERSHELL: &str = r"(?i)(invoke-(expression|webrequest|command|restmethod)|\biex\s*[(\x24]|new-object\s+(system\.)?net\.webclient|downloadstring|-encodedcommand|start-process|set-executionpolicy)";

/// The Windows operating system group.
fn windows_os() -> Vec<Value> {
    let mut rules = Vec::new();
    family(
        &mut rules,
        ("WindowsShellCommands", "WindowsShellCommands"),
        &["COOKIE", "QUERYARGUMENTS", "BODY"],
        |field| regex(WINDOWS_SHELL, field, true),
    );
    family(
        &mut rules,
        ("PowerShellCommands", "PowerShellCommands"),
        &["COOKIE", "QUERYARGUMENTS", "BODY"],
        |field| regex(POWERSHELL, field, true),
    );
    rules
}

/// PHP code: high-risk functions called, superglobals, stream wrappers, opening tags.
const PHP_CODE: &str = r"(?i)(\b(fsockopen|shell_exec|passthru|proc_open|popen|pcntl_exec|create_function|base64_decode|eval|system|exec|assert|phpinfo)\s*\(|\$_(get|post|request|cookie|server|files|env|session)\b|php://(input|filter)|<\?php)";

/// The PHP application group.
fn php_app() -> Vec<Value> {
    let mut rules = Vec::new();
    family(
        &mut rules,
        ("PHPHighRiskMethodsVariables", "PHPHighRiskMethodsVariables"),
        &["HEADER", "QUERYSTRING", "BODY"],
        |field| regex(PHP_CODE, field, true),
    );
    rules
}

/// WordPress commands that reset or take over an installation, and files with known flaws.
const WORDPRESS_COMMANDS: &str = r"(?i)(do-reset-wordpress|reset-wordpress|revslider_show_image|action=(revslider|duplicator_download|wp_file_manager))";
const WORDPRESS_PATHS: &str =
    r"(?i)/(xmlrpc\.php|wp-config\.php|wp-admin/install\.php|wp-content/debug\.log)";

/// The WordPress application group (its labels keep the rule names' upper case, as AWS's).
fn wordpress_app() -> Vec<Value> {
    vec![
        rule(
            "WordPressExploitableCommands_QUERYSTRING",
            0,
            "WordPressExploitableCommands_QUERYSTRING",
            regex(WORDPRESS_COMMANDS, query_string(), true),
        ),
        rule(
            "WordPressExploitablePaths_URIPATH",
            1,
            "WordPressExploitablePaths_URIPATH",
            regex(WORDPRESS_PATHS, uri_path(), true),
        ),
    ]
}
