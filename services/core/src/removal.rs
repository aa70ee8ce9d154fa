//! "Delete (or revoke), and answer 404 when nothing was there": every DELETE endpoint of the
//! API has this shape. Stores report what their statement touched in whichever form fits
//! their SQL (a flag, a row count, the returned row); [`Removal::or_not_found`] turns "nothing"
//! into the caller's 404 the same way for all of them, so no endpoint can forget the check or
//! answer it with another status.

use crate::error::Error;

/// What a store's DELETE (or revoking UPDATE) reports about the rows it touched.
pub trait Removal: Sized {
    /// What the caller gets back when something was removed.
    type Removed;

    /// What was removed, or `None` when the statement touched no row.
    fn removed(self) -> Option<Self::Removed>;

    /// What was removed, or a 404 whose detail is `missing()` (only called when nothing was
    /// there, so it may format freely).
    fn or_not_found(self, missing: impl FnOnce() -> String) -> Result<Self::Removed, Error> {
        self.removed().ok_or_else(|| Error::NotFound(missing()))
    }
}

/// A store that says whether its statement matched a row.
impl Removal for bool {
    type Removed = ();

    fn removed(self) -> Option<()> {
        self.then_some(())
    }
}

/// A store that counts the rows it removed (`rows_affected`).
impl Removal for u64 {
    type Removed = u64;

    fn removed(self) -> Option<u64> {
        (self > 0).then_some(self)
    }
}

/// A store that returns the removed row (`RETURNING ...`).
impl<T> Removal for Option<T> {
    type Removed = T;

    fn removed(self) -> Option<T> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(result: Result<impl std::fmt::Debug, Error>) -> String {
        match result {
            Err(Error::NotFound(detail)) => detail,
            other => panic!("expected a 404, got {other:?}"),
        }
    }

    #[test]
    fn nothing_removed_is_the_callers_404() {
        assert_eq!(
            detail(false.or_not_found(|| "no such thing".into())),
            "no such thing"
        );
        assert_eq!(detail(0u64.or_not_found(|| "none".into())), "none");
        assert_eq!(
            detail(None::<String>.or_not_found(|| "gone".into())),
            "gone"
        );
    }

    #[test]
    fn something_removed_is_handed_back() {
        let never = || -> String { unreachable!("the message of a removal that happened") };
        assert!(true.or_not_found(never).is_ok());
        assert_eq!(2u64.or_not_found(never).ok(), Some(2));
        assert_eq!(Some("name").or_not_found(never).ok(), Some("name"));
    }
}
