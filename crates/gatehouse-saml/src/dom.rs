//! Building XML as a tree: every name is a namespace-qualified name and every value goes through
//! the serializer, which escapes it. No string templates.

use std::borrow::Cow;
use uppsala::{Document, NodeId, QName};

pub(crate) struct Tree {
    pub doc: Document<'static>,
}

impl Tree {
    pub fn new() -> Self {
        Tree { doc: Document::new() }
    }

    /// A new element `prefix:local` in `ns`, appended to `parent` (or as the document element).
    pub fn element(&mut self, parent: Option<NodeId>, ns: &'static str, prefix: &'static str, local: &'static str) -> NodeId {
        let name = QName { namespace_uri: Some(Cow::Borrowed(ns)), prefix: Some(Cow::Borrowed(prefix)), local_name: Cow::Borrowed(local) };
        let node = self.doc.create_element(name);
        let parent = parent.unwrap_or_else(|| self.doc.root());
        self.doc.append_child(parent, node);
        node
    }

    /// A new element not yet in the tree (to insert at a chosen place).
    pub fn detached(&mut self, ns: &'static str, prefix: &'static str, local: &'static str) -> NodeId {
        let name = QName { namespace_uri: Some(Cow::Borrowed(ns)), prefix: Some(Cow::Borrowed(prefix)), local_name: Cow::Borrowed(local) };
        self.doc.create_element(name)
    }

    /// An element holding only text.
    pub fn text_element(&mut self, parent: NodeId, ns: &'static str, prefix: &'static str, local: &'static str, text: &str) -> NodeId {
        let node = self.element(Some(parent), ns, prefix, local);
        let t = self.doc.create_text(Cow::Owned(text.to_string()));
        self.doc.append_child(node, t);
        node
    }

    pub fn attr(&mut self, node: NodeId, name: &'static str, value: &str) {
        if let Some(e) = self.doc.element_mut(node) {
            e.set_attribute(QName::local(name), Cow::Owned(value.to_string()));
        }
    }

    /// An attribute in a namespace (`xsi:type`).
    pub fn attr_ns(&mut self, node: NodeId, ns: &'static str, prefix: &'static str, local: &'static str, value: &str) {
        if let Some(e) = self.doc.element_mut(node) {
            let name =
                QName { namespace_uri: Some(Cow::Borrowed(ns)), prefix: Some(Cow::Borrowed(prefix)), local_name: Cow::Borrowed(local) };
            e.set_attribute(name, Cow::Owned(value.to_string()));
        }
    }

    pub fn declare(&mut self, node: NodeId, prefix: &str, ns: &'static str) {
        self.doc.declare_namespace(node, Some(prefix), Cow::Borrowed(ns));
    }
}
