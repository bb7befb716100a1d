//! Mistakes in setting up the options.

/// A registration that cannot be accepted. Setting up security is code the
/// application controls, so these are its own mistakes, reported rather than
/// silently absorbed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The wire class name is registered already; a second registration
    /// would silently change which local type the first one builds.
    #[error("class {class} is registered already")]
    DuplicateClass {
        /// The wire class name.
        class: String,
    },
    /// Not a `module.Class` name: Twisted names classes by their module path
    /// and qualified name, dotted, and an undotted name would collide with
    /// Jelly's own type tags.
    #[error("{class:?} is not a wire class name of the form module.Class")]
    InvalidClassName {
        /// The name given.
        class: String,
    },
}
