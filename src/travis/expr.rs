//! Travis's job condition language (`if: tag IS present`), the common part of it: `type`,
//! `repo`, `branch`, `tag`, `os` and `env(NAME)` with `=`, `!=`, `IS [NOT] present|blank`,
//! `[NOT] IN (…)`, joined by `NOT`, `AND`, `OR` and parentheses (travis-ci/travis-conditions,
//! `lib/travis/conditions/v1/parser.rb`). Anything else is refused when the file is read.
//!
//! Pure: evaluates against the facts it is given.

use crate::Env;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Operand {
    Var(&'static str),
    Env(String),
    Value(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Expr {
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Eq(Operand, Operand, bool),
    Present(Operand, bool),
    In(Operand, Vec<Operand>, bool),
    /// An operand alone: true unless it is empty or `false` (travis-conditions' `eval_spec.rb`).
    Truthy(Operand),
}

/// What a job condition is evaluated against.
pub(crate) struct Facts<'a> {
    /// `push`, `pull_request`, `api` or `cron`.
    pub kind: String,
    pub repo: Option<String>,
    /// On a tag build, Travis's branch is the tag's name.
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub env: &'a Env,
}

const VARS: &[&str] = &["type", "repo", "branch", "tag", "os"];
/// travis-conditions' other variables: known, but not evaluated here.
const OTHER_VARS: &[&str] = &[
    "head_repo",
    "dist",
    "group",
    "sudo",
    "language",
    "sender",
    "fork",
    "draft",
    "head_branch",
    "commit_message",
];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(&'static str),
    Open,
    Close,
    Comma,
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '"' | '\'' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&x| x == c)
                    .ok_or("an unterminated quote")?;
                out.push(Token::Quoted(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            '=' | '!' | '~' | '&' | '|' => {
                let two: String = [c, next.unwrap_or(' ')].iter().collect();
                let op = match two.as_str() {
                    "==" => "=",
                    "!=" => "!=",
                    "=~" | "~=" | "!~" => {
                        return Err(format!("the regular-expression match `{two}`"));
                    }
                    "&&" => "AND",
                    "||" => "OR",
                    _ if c == '=' => "=",
                    _ if c == '!' => "NOT",
                    _ => return Err(format!("`{c}`")),
                };
                i += if op == "=" && next != Some('=') || op == "NOT" {
                    1
                } else {
                    2
                };
                out.push(Token::Op(op));
            }
            _ => {
                let start = i;
                while i < chars.len() && !chars[i].is_whitespace() && !"()\"',=!".contains(chars[i])
                {
                    i += 1;
                }
                out.push(Token::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn peek_op(&self, op: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Op(o)) if *o == op)
    }

    fn eat_keyword(&mut self, word: &str) -> bool {
        let hit = self.peek_word(word) || self.peek_op(word);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.eat_keyword("OR") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.not()?;
        while self.eat_keyword("AND") {
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.eat_keyword("NOT") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        if self.tokens.get(self.at) == Some(&Token::Open) {
            self.at += 1;
            let inner = self.expr()?;
            if self.tokens.get(self.at) != Some(&Token::Close) {
                return Err("a `(` without its `)`".to_owned());
            }
            self.at += 1;
            return Ok(inner);
        }
        self.term()
    }

    fn term(&mut self) -> Result<Expr, String> {
        let left = self.operand()?;
        if self.eat_keyword("IS") {
            let negated = self.eat_keyword("NOT");
            let present = if self.eat_keyword("present") {
                true
            } else if self.eat_keyword("blank") {
                false
            } else {
                return Err("`IS` followed by something other than `present` or `blank`".into());
            };
            return Ok(Expr::Present(left, present != negated));
        }
        let negated_in = self.peek_word("NOT")
            && matches!(self.tokens.get(self.at + 1), Some(Token::Word(w)) if w.eq_ignore_ascii_case("IN"));
        if negated_in {
            self.at += 1;
        }
        if self.eat_keyword("IN") {
            if self.tokens.get(self.at) != Some(&Token::Open) {
                return Err("`IN` without a `(` list".to_owned());
            }
            self.at += 1;
            let mut list = vec![self.operand()?];
            while self.tokens.get(self.at) == Some(&Token::Comma) {
                self.at += 1;
                list.push(self.operand()?);
            }
            if self.tokens.get(self.at) != Some(&Token::Close) {
                return Err("an `IN (` list without its `)`".to_owned());
            }
            self.at += 1;
            return Ok(Expr::In(left, list, !negated_in));
        }
        if self.peek_op("=") || self.peek_op("!=") {
            let equal = self.peek_op("=");
            self.at += 1;
            return Ok(Expr::Eq(left, self.operand()?, equal));
        }
        Ok(Expr::Truthy(left))
    }

    fn operand(&mut self) -> Result<Operand, String> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        match token {
            Some(Token::Quoted(text)) => Ok(Operand::Value(text)),
            Some(Token::Word(word)) => {
                let lower = word.to_ascii_lowercase();
                if lower == "env" && self.tokens.get(self.at) == Some(&Token::Open) {
                    let name = match self.tokens.get(self.at + 1) {
                        Some(Token::Word(name)) => name.clone(),
                        _ => return Err("`env(` without a variable name".into()),
                    };
                    if self.tokens.get(self.at + 2) != Some(&Token::Close) {
                        return Err("`env(` without its `)`".into());
                    }
                    self.at += 3;
                    return Ok(Operand::Env(name));
                }
                if self.tokens.get(self.at) == Some(&Token::Open) {
                    return Err(format!("the function `{word}(…)`"));
                }
                if let Some(var) = VARS.iter().find(|v| **v == word) {
                    return Ok(Operand::Var(var));
                }
                if OTHER_VARS.contains(&word.as_str()) {
                    return Err(format!("the variable `{word}`"));
                }
                Ok(Operand::Value(word))
            }
            Some(other) => Err(format!("{other:?} where a value belongs")),
            None => Err("a condition that ends too early".into()),
        }
    }
}

/// Parse a job condition; the error names what shipcrate does not evaluate.
pub(crate) fn parse(text: &str) -> Result<Expr, String> {
    let mut parser = Parser {
        tokens: tokens(text)?,
        at: 0,
    };
    let expr = parser.expr()?;
    if parser.at < parser.tokens.len() {
        return Err(format!(
            "{:?} after a complete condition",
            parser.tokens[parser.at]
        ));
    }
    Ok(expr)
}

fn value(operand: &Operand, facts: &Facts) -> Option<String> {
    match operand {
        Operand::Value(v) => Some(v.clone()),
        Operand::Env(name) => facts.env.get(name).cloned(),
        Operand::Var("type") => Some(facts.kind.clone()),
        Operand::Var("repo") => facts.repo.clone(),
        Operand::Var("branch") => facts.branch.clone(),
        Operand::Var("tag") => facts.tag.clone(),
        Operand::Var("os") => facts.env.get("TRAVIS_OS_NAME").cloned(),
        Operand::Var(_) => None,
    }
    .filter(|v| !v.is_empty())
}

pub(crate) fn eval(expr: &Expr, facts: &Facts) -> bool {
    match expr {
        Expr::Not(inner) => !eval(inner, facts),
        Expr::And(a, b) => eval(a, facts) && eval(b, facts),
        Expr::Or(a, b) => eval(a, facts) || eval(b, facts),
        Expr::Eq(a, b, equal) => (value(a, facts) == value(b, facts)) == *equal,
        Expr::Present(a, present) => value(a, facts).is_some() == *present,
        Expr::In(a, list, inside) => {
            let v = value(a, facts);
            v.is_some() && list.iter().any(|item| value(item, facts) == v) == *inside
        }
        Expr::Truthy(a) => value(a, facts).is_some_and(|v| !v.eq_ignore_ascii_case("false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(text: &str, branch: &str, tag: Option<&str>) -> bool {
        let env: Env = [("FOO".to_owned(), "foo".to_owned())].into();
        let facts = Facts {
            kind: "push".into(),
            repo: Some("o/r".into()),
            branch: Some(branch.into()),
            tag: tag.map(Into::into),
            env: &env,
        };
        eval(&parse(text).unwrap(), &facts)
    }

    // Cases from travis-ci/travis-conditions spec/v1/eval_spec.rb (lines 54-75, 119-146).
    #[test]
    fn evaluates_travis_conditions() {
        assert!(holds(
            "NOT branch = foo AND (env(FOO) = foo OR tag = wat)",
            "master",
            None
        ));
        assert!(holds(
            "branch = foo OR env(FOO) = foo AND NOT tag = wat",
            "master",
            None
        ));
        assert!(!holds(
            "branch = foo OR env(FOO) = foo AND tag = wat",
            "master",
            None
        ));
        assert!(holds("branch = master", "master", None));
        assert!(!holds("branch = foo", "master", None));
        assert!(holds("tag IS present", "v1", Some("v1")));
        assert!(!holds("tag IS present", "master", None));
        assert!(holds("tag IS blank", "master", None));
        assert!(holds("type IN (push, api) AND repo = o/r", "master", None));
        assert!(holds("branch NOT IN (dev, \"x y\")", "master", None));
        assert!(holds("type = push && branch != dev", "master", None));
    }

    #[test]
    fn refuses_what_it_does_not_evaluate() {
        assert!(
            parse("commit_message =~ /release/")
                .unwrap_err()
                .contains("=~")
        );
        assert!(parse("sender = me").unwrap_err().contains("`sender`"));
        assert!(parse("concat(a, b) = ab").unwrap_err().contains("concat"));
        assert!(parse("(branch = a").is_err());
    }
}
