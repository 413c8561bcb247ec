//! The template language's syntax: text, references (`$name.prop.method(args)[index]`,
//! `$!quiet`, `${formal}`), directives (`#set`, `#if`/`#elseif`/`#else`/`#end`, `#foreach`),
//! comments (`## line`, `#* block *#`), unparsed text (`#[[ ... ]]#`) and expressions.
//!
//! Written by hand: the Velocity crates on crates.io are either abandoned or implement a
//! different engine's syntax, and API Gateway's subset is small.
//!
//! A directive alone on its line takes the line with it (its indentation and its newline),
//! so that templates laid out one directive per line render without blank lines.

use crate::Error;

/// Deepest nesting of blocks and expressions; deeper templates are refused, so that a
/// hostile template cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Text(String),
    /// A reference in text. One that resolves to nothing renders as nothing, quiet
    /// (`$!a`) or not: API Gateway renders it so, unlike plain Velocity.
    Ref(Reference),
    Set {
        target: Reference,
        value: Expr,
    },
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Option<Vec<Node>>,
    },
    Foreach {
        var: String,
        items: Expr,
        body: Vec<Node>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reference {
    pub root: String,
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    Prop(String),
    Call(String, Vec<Expr>),
    Index(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A single-quoted string: taken as it is.
    Str(String),
    /// A double-quoted string: its references are filled in.
    Interpolated(Vec<Node>),
    List(Vec<Expr>),
    Range(Box<Expr>, Box<Expr>),
    Map(Vec<(Expr, Expr)>),
    Ref(Reference),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

/// How a block ended.
enum End {
    Eof,
    /// `#end`.
    Close,
    Else,
    ElseIf(Expr),
}

pub(crate) struct Parser<'s> {
    src: &'s str,
    pos: usize,
    depth: usize,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic()
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

impl<'s> Parser<'s> {
    pub(crate) fn new(src: &'s str) -> Self {
        Parser {
            src,
            pos: 0,
            depth: 0,
        }
    }

    pub(crate) fn template(mut self) -> Result<Vec<Node>, Error> {
        let (nodes, end) = self.nodes()?;
        match end {
            End::Eof => Ok(nodes),
            End::Close => Err(self.error("#end without a matching #if or #foreach")),
            End::Else | End::ElseIf(_) => Err(self.error("#else or #elseif outside an #if")),
        }
    }

    fn error(&self, what: &str) -> Error {
        let line = self.src[..self.pos.min(self.src.len())]
            .bytes()
            .filter(|&b| b == b'\n')
            .count()
            + 1;
        Error::Parse(format!("{what} (line {line})"))
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos + offset).copied()
    }

    fn rest(&self) -> &'s str {
        self.src.get(self.pos..).unwrap_or("")
    }

    /// Runs `parse` one level deeper: blocks and expressions count, so that nesting past
    /// [`MAX_DEPTH`] is refused before it can exhaust the stack.
    fn nested<T>(&mut self, parse: impl FnOnce(&mut Self) -> Result<T, Error>) -> Result<T, Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("the template is nested too deeply"));
        }
        let result = parse(self);
        self.depth -= 1;
        result
    }

    /// Text and nodes up to the end of the source or of the enclosing block.
    fn nodes(&mut self) -> Result<(Vec<Node>, End), Error> {
        self.nested(Self::nodes_inner)
    }

    fn nodes_inner(&mut self) -> Result<(Vec<Node>, End), Error> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        loop {
            let Some(b) = self.peek() else {
                flush(&mut nodes, &mut text);
                return Ok((nodes, End::Eof));
            };
            match b {
                b'\\' if matches!(self.peek_at(1), Some(b'$' | b'#')) => {
                    // An escaped `$` or `#` is text, and so is what follows it.
                    self.pos += 1;
                    let c = self.peek().map_or('$', char::from);
                    text.push(c);
                    self.pos += 1;
                }
                b'$' => {
                    let start = self.pos;
                    match self.text_reference()? {
                        Some(node) => {
                            flush(&mut nodes, &mut text);
                            nodes.push(node);
                        }
                        None => {
                            self.pos = start + 1;
                            text.push('$');
                        }
                    }
                }
                b'#' => {
                    let hash = self.pos;
                    let alone = self.line_blank_before(hash);
                    match self.directive(&mut nodes, &mut text, alone)? {
                        Some(end) => {
                            flush(&mut nodes, &mut text);
                            return Ok((nodes, end));
                        }
                        None => continue,
                    }
                }
                _ => {
                    // Copy the run of plain text up to the next special byte.
                    let rest = self.rest();
                    let len = rest
                        .bytes()
                        .position(|b| matches!(b, b'$' | b'#' | b'\\'))
                        .map_or(rest.len(), |p| p.max(1));
                    let len = next_boundary(rest, len);
                    text.push_str(&rest[..len]);
                    self.pos += len;
                }
            }
        }
    }

    /// Whether only spaces and tabs come between the start of the line and `at`.
    fn line_blank_before(&self, at: usize) -> bool {
        let before = &self.src.as_bytes()[..at];
        before
            .iter()
            .rev()
            .take_while(|&&b| b != b'\n')
            .all(|&b| b == b' ' || b == b'\t')
    }

    /// After a directive alone on its line: drops the line's indentation from `text` and
    /// skips the rest of the line with its newline, when only blanks follow.
    fn gobble(&mut self, text: &mut String, alone: bool) {
        if !alone {
            return;
        }
        let rest = self.rest().as_bytes();
        let blanks = rest
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t' || b == b'\r')
            .count();
        match rest.get(blanks) {
            Some(b'\n') => self.pos += blanks + 1,
            None => self.pos += blanks,
            Some(_) => return,
        }
        let kept = text.trim_end_matches([' ', '\t']).len();
        text.truncate(kept);
    }

    /// A `#...` at the current position: a directive, a comment, or text. Returns how the
    /// enclosing block ends when the directive ends it.
    fn directive(
        &mut self,
        nodes: &mut Vec<Node>,
        text: &mut String,
        alone: bool,
    ) -> Result<Option<End>, Error> {
        let rest = self.rest();
        if rest.starts_with("##") {
            let len = rest.find('\n').map_or(rest.len(), |p| p + 1);
            self.pos += len;
            if alone {
                let kept = text.trim_end_matches([' ', '\t']).len();
                text.truncate(kept);
            }
            return Ok(None);
        }
        if let Some(comment) = rest.strip_prefix("#*") {
            let Some(end) = comment.find("*#") else {
                return Err(self.error("a #* comment is not closed with *#"));
            };
            self.pos += end + 4;
            self.gobble(text, alone);
            return Ok(None);
        }
        if let Some(unparsed) = rest.strip_prefix("#[[") {
            let Some(end) = unparsed.find("]]#") else {
                return Err(self.error("a #[[ block is not closed with ]]#"));
            };
            text.push_str(&unparsed[..end]);
            self.pos += end + 6;
            return Ok(None);
        }
        let bytes = rest.as_bytes();
        let braced = bytes.get(1) == Some(&b'{');
        let name_start = if braced { 2 } else { 1 };
        let name_len = bytes[name_start.min(bytes.len())..]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        let name = &rest[name_start..name_start + name_len];
        let mut after = name_start + name_len;
        if braced {
            if bytes.get(after) != Some(&b'}') {
                text.push('#');
                self.pos += 1;
                return Ok(None);
            }
            after += 1;
        }
        match name {
            "set" | "if" | "elseif" | "foreach" => {}
            "else" | "end" => {
                self.pos += after;
                self.gobble(text, alone);
                return Ok(Some(if name == "end" { End::Close } else { End::Else }));
            }
            "break" | "stop" | "macro" | "include" | "parse" | "define" | "evaluate" => {
                return Err(self.error(&format!("#{name} is not supported in mapping templates")));
            }
            _ => {
                text.push('#');
                self.pos += 1;
                return Ok(None);
            }
        }
        self.pos += after;
        self.skip_blanks();
        if self.peek() != Some(b'(') {
            return Err(self.error(&format!("#{name} needs its arguments in parentheses")));
        }
        self.pos += 1;
        match name {
            "set" => {
                self.skip_space();
                let target = match self.expr_reference()? {
                    Some(Expr::Ref(reference)) => reference,
                    _ => return Err(self.error("#set needs a $reference to set")),
                };
                self.skip_space();
                if self.peek() != Some(b'=') {
                    return Err(self.error("#set needs '=' after its reference"));
                }
                self.pos += 1;
                let value = self.expr()?;
                self.close_paren("#set")?;
                self.gobble(text, alone);
                flush(nodes, text);
                nodes.push(Node::Set { target, value });
                Ok(None)
            }
            "if" => {
                let condition = self.expr()?;
                self.close_paren("#if")?;
                self.gobble(text, alone);
                flush(nodes, text);
                let mut branches = Vec::new();
                let mut condition = condition;
                loop {
                    let (body, end) = self.nodes()?;
                    branches.push((condition, body));
                    match end {
                        End::Close => {
                            nodes.push(Node::If {
                                branches,
                                otherwise: None,
                            });
                            return Ok(None);
                        }
                        End::ElseIf(next) => condition = next,
                        End::Else => {
                            let (body, end) = self.nodes()?;
                            if !matches!(end, End::Close) {
                                return Err(self.error("#else needs an #end"));
                            }
                            nodes.push(Node::If {
                                branches,
                                otherwise: Some(body),
                            });
                            return Ok(None);
                        }
                        End::Eof => return Err(self.error("#if needs an #end")),
                    }
                }
            }
            "elseif" => {
                let condition = self.expr()?;
                self.close_paren("#elseif")?;
                self.gobble(text, alone);
                Ok(Some(End::ElseIf(condition)))
            }
            _ => {
                // foreach
                self.skip_space();
                let var = match self.expr_reference()? {
                    Some(Expr::Ref(Reference { root, parts })) if parts.is_empty() => root,
                    _ => return Err(self.error("#foreach needs a $name to loop with")),
                };
                self.skip_space();
                if !self.rest().starts_with("in") || self.peek_at(2).is_some_and(is_ident) {
                    return Err(self.error("#foreach needs 'in' after its $name"));
                }
                self.pos += 2;
                let items = self.expr()?;
                self.close_paren("#foreach")?;
                self.gobble(text, alone);
                flush(nodes, text);
                let (body, end) = self.nodes()?;
                if !matches!(end, End::Close) {
                    return Err(self.error("#foreach needs an #end"));
                }
                nodes.push(Node::Foreach { var, items, body });
                Ok(None)
            }
        }
    }

    fn close_paren(&mut self, what: &str) -> Result<(), Error> {
        self.skip_space();
        if self.peek() != Some(b')') {
            return Err(self.error(&format!("{what} is missing its closing ')'")));
        }
        self.pos += 1;
        Ok(())
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    /// A reference in text, at a `$`; `None` when the `$` starts none (it is text then).
    fn text_reference(&mut self) -> Result<Option<Node>, Error> {
        let start = self.pos;
        self.pos += 1;
        let quiet = self.peek() == Some(b'!');
        if quiet {
            self.pos += 1;
        }
        let formal = self.peek() == Some(b'{');
        if formal {
            self.pos += 1;
        }
        let Some(reference) = self.reference_body(formal)? else {
            self.pos = start;
            return Ok(None);
        };
        Ok(Some(Node::Ref(reference)))
    }

    /// The name and parts of a reference, after `$`, `$!` or `${`.
    fn reference_body(&mut self, formal: bool) -> Result<Option<Reference>, Error> {
        let Some(root) = self.ident() else {
            return Ok(None);
        };
        let mut parts = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') if self.peek_at(1).is_some_and(is_ident_start) => {
                    let save = self.pos;
                    self.pos += 1;
                    let Some(name) = self.ident() else {
                        self.pos = save;
                        break;
                    };
                    if self.peek() == Some(b'(') {
                        self.pos += 1;
                        let args = self.arguments(b')')?;
                        parts.push(Part::Call(name, args));
                    } else {
                        parts.push(Part::Prop(name));
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    let index = self.expr()?;
                    self.skip_space();
                    if self.peek() != Some(b']') {
                        return Err(self.error("an index is missing its closing ']'"));
                    }
                    self.pos += 1;
                    parts.push(Part::Index(index));
                }
                _ => break,
            }
        }
        if formal {
            if self.peek() != Some(b'}') {
                return Ok(None);
            }
            self.pos += 1;
        }
        Ok(Some(Reference { root, parts }))
    }

    fn ident(&mut self) -> Option<String> {
        let rest = self.rest().as_bytes();
        if !rest.first().copied().is_some_and(is_ident_start) {
            return None;
        }
        let len = rest.iter().take_while(|&&b| is_ident(b)).count();
        let name = self.src[self.pos..self.pos + len].to_owned();
        self.pos += len;
        Some(name)
    }

    /// Comma-separated expressions up to `close`.
    fn arguments(&mut self, close: u8) -> Result<Vec<Expr>, Error> {
        let mut args = Vec::new();
        self.skip_space();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b) if b == close => {
                    self.pos += 1;
                    return Ok(args);
                }
                _ => {
                    return Err(self.error(&format!(
                        "expected ',' or '{}' in a list of arguments",
                        char::from(close)
                    )));
                }
            }
        }
    }

    pub(crate) fn expr(&mut self) -> Result<Expr, Error> {
        self.nested(|parser| parser.binary(0))
    }

    /// Operators by precedence, lowest first.
    fn binary(&mut self, level: usize) -> Result<Expr, Error> {
        const LEVELS: &[&[(&str, BinOp)]] = &[
            &[("||", BinOp::Or), ("or", BinOp::Or)],
            &[("&&", BinOp::And), ("and", BinOp::And)],
            &[
                ("==", BinOp::Eq),
                ("!=", BinOp::Ne),
                ("eq", BinOp::Eq),
                ("ne", BinOp::Ne),
            ],
            &[
                ("<=", BinOp::Le),
                (">=", BinOp::Ge),
                ("<", BinOp::Lt),
                (">", BinOp::Gt),
                ("le", BinOp::Le),
                ("ge", BinOp::Ge),
                ("lt", BinOp::Lt),
                ("gt", BinOp::Gt),
            ],
            &[("+", BinOp::Add), ("-", BinOp::Sub)],
            &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Mod)],
        ];
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut left = self.binary(level + 1)?;
        loop {
            self.skip_space();
            let rest = self.rest();
            let found = ops.iter().find(|(text, _)| {
                rest.starts_with(text)
                    && (!text.as_bytes()[0].is_ascii_alphabetic()
                        || !rest
                            .as_bytes()
                            .get(text.len())
                            .copied()
                            .is_some_and(is_ident))
            });
            let Some(&(text, op)) = found else {
                return Ok(left);
            };
            self.pos += text.len();
            // At most one level of recursion per operator level; nesting beyond goes
            // through `expr` or `unary`, which count it.
            let right = self.binary(level + 1)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, Error> {
        self.skip_space();
        let rest = self.rest();
        if rest.starts_with('!') && !rest.starts_with("!=") {
            self.pos += 1;
            let inner = self.nested(Self::unary)?;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if rest.starts_with("not") && !rest.as_bytes().get(3).copied().is_some_and(is_ident) {
            self.pos += 3;
            let inner = self.nested(Self::unary)?;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if rest.starts_with('-') && !self.peek_at(1).is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
            let inner = self.nested(Self::unary)?;
            return Ok(Expr::Neg(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, Error> {
        self.skip_space();
        let Some(b) = self.peek() else {
            return Err(self.error("an expression ends too soon"));
        };
        match b {
            b'$' => match self.expr_reference()? {
                Some(expr) => Ok(expr),
                None => Err(self.error("'$' starts no reference")),
            },
            b'\'' => {
                let rest = &self.rest()[1..];
                let Some(end) = rest.find('\'') else {
                    return Err(self.error("a string is not closed with '"));
                };
                let text = rest[..end].to_owned();
                self.pos += end + 2;
                Ok(Expr::Str(text))
            }
            b'"' => {
                let rest = &self.rest()[1..];
                let mut end = None;
                let bytes = rest.as_bytes();
                let mut i = 0;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' if bytes.get(i + 1) == Some(&b'"') => i += 2,
                        b'"' => {
                            end = Some(i);
                            break;
                        }
                        _ => i += 1,
                    }
                }
                let Some(end) = end else {
                    return Err(self.error("a string is not closed with \""));
                };
                let inner = rest[..end].replace("\\\"", "\"");
                self.pos += end + 2;
                let parser = Parser {
                    src: &inner,
                    pos: 0,
                    depth: self.depth,
                };
                let nodes = parser.template()?;
                Ok(Expr::Interpolated(nodes))
            }
            b'0'..=b'9' | b'-' => self.number(),
            b'[' => {
                self.pos += 1;
                self.skip_space();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Expr::List(Vec::new()));
                }
                let first = self.expr()?;
                self.skip_space();
                if self.rest().starts_with("..") {
                    self.pos += 2;
                    let last = self.expr()?;
                    self.skip_space();
                    if self.peek() != Some(b']') {
                        return Err(self.error("a range is missing its closing ']'"));
                    }
                    self.pos += 1;
                    return Ok(Expr::Range(Box::new(first), Box::new(last)));
                }
                let mut items = vec![first];
                match self.peek() {
                    Some(b']') => {
                        self.pos += 1;
                        return Ok(Expr::List(items));
                    }
                    Some(b',') => self.pos += 1,
                    _ => return Err(self.error("expected ',' or ']' in a list")),
                }
                items.extend(self.arguments(b']')?);
                Ok(Expr::List(items))
            }
            b'{' => {
                self.pos += 1;
                let mut entries = Vec::new();
                self.skip_space();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Expr::Map(entries));
                }
                loop {
                    let key = self.expr()?;
                    self.skip_space();
                    if self.peek() != Some(b':') {
                        return Err(self.error("expected ':' after a key in a map"));
                    }
                    self.pos += 1;
                    let value = self.expr()?;
                    entries.push((key, value));
                    self.skip_space();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Expr::Map(entries));
                        }
                        _ => return Err(self.error("expected ',' or '}' in a map")),
                    }
                }
            }
            b'(' => {
                self.pos += 1;
                let inner = self.expr()?;
                self.close_paren("a parenthesis")?;
                Ok(inner)
            }
            _ => {
                let rest = self.rest();
                for (word, value) in [
                    ("true", Expr::Bool(true)),
                    ("false", Expr::Bool(false)),
                    ("null", Expr::Null),
                ] {
                    if rest.starts_with(word)
                        && !rest
                            .as_bytes()
                            .get(word.len())
                            .copied()
                            .is_some_and(is_ident)
                    {
                        self.pos += word.len();
                        return Ok(value);
                    }
                }
                Err(self.error("expected a value"))
            }
        }
    }

    fn number(&mut self) -> Result<Expr, Error> {
        let rest = self.rest().as_bytes();
        let mut len = usize::from(rest.first() == Some(&b'-'));
        len += rest[len..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let mut float = false;
        // A dot followed by a digit is a fraction; `1..3` is a range.
        if rest.get(len) == Some(&b'.') && rest.get(len + 1).is_some_and(u8::is_ascii_digit) {
            float = true;
            len += 1;
            len += rest[len..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
        }
        let text = &self.src[self.pos..self.pos + len];
        let expr = if float {
            text.parse::<f64>().map(Expr::Float).ok()
        } else {
            text.parse::<i64>().map(Expr::Int).ok()
        };
        let Some(expr) = expr else {
            return Err(self.error(&format!("'{text}' is not a number")));
        };
        self.pos += len;
        Ok(expr)
    }

    /// A reference inside an expression (`$a.b`, `$!a`, `${a}`).
    fn expr_reference(&mut self) -> Result<Option<Expr>, Error> {
        if self.peek() != Some(b'$') {
            return Ok(None);
        }
        let start = self.pos;
        self.pos += 1;
        if self.peek() == Some(b'!') {
            self.pos += 1;
        }
        let formal = self.peek() == Some(b'{');
        if formal {
            self.pos += 1;
        }
        match self.reference_body(formal)? {
            Some(reference) => Ok(Some(Expr::Ref(reference))),
            None => {
                self.pos = start;
                Ok(None)
            }
        }
    }
}

/// The longest prefix of `text` of at most `len` bytes that ends on a character boundary
/// (at least one character).
fn next_boundary(text: &str, len: usize) -> usize {
    let mut len = len.min(text.len());
    while !text.is_char_boundary(len) {
        len += 1;
    }
    len
}

fn flush(nodes: &mut Vec<Node>, text: &mut String) {
    if !text.is_empty() {
        nodes.push(Node::Text(std::mem::take(text)));
    }
}
