//! Typed Arrow columns filled one row at a time, and the record batch they make.
//!
//! A table is a list of [`Column`]s (name and [`Kind`]) and a function that writes one
//! row through a [`Row`] cursor, column by column in that order. The cursor checks each
//! value's type against the column's, so a table whose row function and column list
//! disagree fails its first row with an error rather than writing a shifted file.

use std::fmt::{Display, Write as _};
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Int32Builder, Int64Builder, ListBuilder, StringBuilder,
    TimestampNanosecondBuilder,
};
use arrow_array::{ArrayRef, ListArray, RecordBatch, StructArray};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// The time zone of every timestamp column: times are UTC instants.
const UTC: &str = "UTC";

/// A column's type in the Parquet file. Integers are signed (ports as INT32, counts as
/// INT64): Spark and Trino read unsigned Parquet types poorly or not at all.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    /// TIMESTAMP(NANOS, UTC).
    Ts,
    Str,
    I32,
    I64,
    Bool,
    /// A list of strings.
    StrList,
    /// A list of INT32.
    I32List,
    /// A list of structs with these members.
    Structs(&'static [(&'static str, Leaf)]),
}

/// A member of a struct in a [`Kind::Structs`] list.
#[derive(Debug, Clone, Copy)]
pub(super) enum Leaf {
    Str,
    I64,
}

/// One column of a table.
pub(super) type Column = (&'static str, Kind);

/// A value of a struct member, for [`Row::structs`].
pub(super) enum Val<'a> {
    Str(Option<&'a str>),
    I64(Option<i64>),
}

/// The rows of one table not yet written, column by column.
pub(super) struct Batch {
    schema: SchemaRef,
    builders: Vec<Builder>,
    rows: usize,
}

enum Builder {
    Ts(TimestampNanosecondBuilder),
    Str(StringBuilder),
    I32(Int32Builder),
    I64(Int64Builder),
    Bool(BooleanBuilder),
    StrList(ListBuilder<StringBuilder>),
    I32List(ListBuilder<Int32Builder>),
    Structs(StructList),
}

/// A list-of-structs column: the members' values one after another and where each row's
/// list ends.
struct StructList {
    fields: Fields,
    members: Vec<LeafBuilder>,
    offsets: Vec<i32>,
}

enum LeafBuilder {
    Str(StringBuilder),
    I64(Int64Builder),
}

fn leaf_type(leaf: Leaf) -> DataType {
    match leaf {
        Leaf::Str => DataType::Utf8,
        Leaf::I64 => DataType::Int64,
    }
}

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(item, true)))
}

fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Ts => DataType::Timestamp(TimeUnit::Nanosecond, Some(UTC.into())),
        Kind::Str => DataType::Utf8,
        Kind::I32 => DataType::Int32,
        Kind::I64 => DataType::Int64,
        Kind::Bool => DataType::Boolean,
        Kind::StrList => list_of(DataType::Utf8),
        Kind::I32List => list_of(DataType::Int32),
        Kind::Structs(members) => list_of(DataType::Struct(struct_fields(members))),
    }
}

fn struct_fields(members: &[(&'static str, Leaf)]) -> Fields {
    members
        .iter()
        .map(|&(name, leaf)| Field::new(name, leaf_type(leaf), true))
        .collect()
}

/// The Arrow schema of a table (every column nullable).
pub(super) fn schema(columns: &[Column]) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .map(|&(name, kind)| Field::new(name, data_type(kind), true))
        .collect();
    Arc::new(Schema::new(fields))
}

impl Batch {
    pub(super) fn new(columns: &[Column]) -> Batch {
        let builders = columns
            .iter()
            .map(|&(_, kind)| match kind {
                Kind::Ts => Builder::Ts(TimestampNanosecondBuilder::new().with_timezone(UTC)),
                Kind::Str => Builder::Str(StringBuilder::new()),
                Kind::I32 => Builder::I32(Int32Builder::new()),
                Kind::I64 => Builder::I64(Int64Builder::new()),
                Kind::Bool => Builder::Bool(BooleanBuilder::new()),
                Kind::StrList => Builder::StrList(ListBuilder::new(StringBuilder::new())),
                Kind::I32List => Builder::I32List(ListBuilder::new(Int32Builder::new())),
                Kind::Structs(members) => Builder::Structs(StructList {
                    fields: struct_fields(members),
                    members: members
                        .iter()
                        .map(|&(_, leaf)| match leaf {
                            Leaf::Str => LeafBuilder::Str(StringBuilder::new()),
                            Leaf::I64 => LeafBuilder::I64(Int64Builder::new()),
                        })
                        .collect(),
                    offsets: vec![0],
                }),
            })
            .collect();
        Batch {
            schema: schema(columns),
            builders,
            rows: 0,
        }
    }

    /// Rows held.
    pub(super) fn len(&self) -> usize {
        self.rows
    }

    /// Starts a row: write every column through the cursor, in order, then
    /// [`Row::end`].
    pub(super) fn row(&mut self) -> Row<'_> {
        Row {
            builders: self.builders.iter_mut(),
            rows: &mut self.rows,
            ok: true,
        }
    }

    /// The rows held as a record batch; the batch is empty again afterwards.
    pub(super) fn take(&mut self) -> Result<RecordBatch, ArrowError> {
        let arrays = self
            .builders
            .iter_mut()
            .map(Builder::finish)
            .collect::<Result<Vec<ArrayRef>, ArrowError>>()?;
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays)
    }
}

impl Builder {
    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        Ok(match self {
            Builder::Ts(b) => Arc::new(b.finish()),
            Builder::Str(b) => Arc::new(b.finish()),
            Builder::I32(b) => Arc::new(b.finish()),
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::StrList(b) => Arc::new(b.finish()),
            Builder::I32List(b) => Arc::new(b.finish()),
            Builder::Structs(s) => {
                let members = s
                    .members
                    .iter_mut()
                    .map(|m| match m {
                        LeafBuilder::Str(b) => ArrayBuilder::finish(b),
                        LeafBuilder::I64(b) => ArrayBuilder::finish(b),
                    })
                    .collect();
                let values = StructArray::try_new(s.fields.clone(), members, None)?;
                let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(
                    &mut s.offsets,
                    vec![0],
                )));
                let item = Field::new_list_field(DataType::Struct(s.fields.clone()), true);
                Arc::new(ListArray::try_new(
                    Arc::new(item),
                    offsets,
                    Arc::new(values),
                    None,
                )?)
            }
        })
    }
}

/// The cursor writing one row: one call per column, in the table's order.
pub(super) struct Row<'a> {
    builders: std::slice::IterMut<'a, Builder>,
    rows: &'a mut usize,
    /// Every value so far went to a column of its type.
    ok: bool,
}

impl Row<'_> {
    fn next(&mut self) -> Option<&mut Builder> {
        let b = self.builders.next();
        if b.is_none() {
            self.ok = false;
        }
        b
    }

    pub(super) fn ts(&mut self, v: Option<i64>) {
        match self.next() {
            Some(Builder::Ts(b)) => b.append_option(v),
            _ => self.ok = false,
        }
    }

    pub(super) fn str(&mut self, v: Option<&str>) {
        match self.next() {
            Some(Builder::Str(b)) => b.append_option(v),
            _ => self.ok = false,
        }
    }

    /// A string written by `Display` (addresses), without a temporary `String`.
    pub(super) fn display(&mut self, v: Option<impl Display>) {
        match (self.next(), v) {
            (Some(Builder::Str(b)), Some(v)) => {
                // Writing into the builder's buffer cannot fail.
                let _ = write!(b, "{v}");
                b.append_value("");
            }
            (Some(Builder::Str(b)), None) => b.append_null(),
            _ => self.ok = false,
        }
    }

    pub(super) fn i32(&mut self, v: Option<i32>) {
        match self.next() {
            Some(Builder::I32(b)) => b.append_option(v),
            _ => self.ok = false,
        }
    }

    pub(super) fn i64(&mut self, v: Option<i64>) {
        match self.next() {
            Some(Builder::I64(b)) => b.append_option(v),
            _ => self.ok = false,
        }
    }

    pub(super) fn bool(&mut self, v: Option<bool>) {
        match self.next() {
            Some(Builder::Bool(b)) => b.append_option(v),
            _ => self.ok = false,
        }
    }

    pub(super) fn str_list<'s>(&mut self, items: impl IntoIterator<Item = &'s str>) {
        match self.next() {
            Some(Builder::StrList(b)) => {
                for s in items {
                    b.values().append_value(s);
                }
                b.append(true);
            }
            _ => self.ok = false,
        }
    }

    pub(super) fn i32_list(&mut self, items: impl IntoIterator<Item = i32>) {
        match self.next() {
            Some(Builder::I32List(b)) => {
                for v in items {
                    b.values().append_value(v);
                }
                b.append(true);
            }
            _ => self.ok = false,
        }
    }

    /// A list of structs, each given as its members' values in order.
    pub(super) fn structs<'s, const N: usize>(
        &mut self,
        items: impl IntoIterator<Item = [Val<'s>; N]>,
    ) {
        let Some(Builder::Structs(s)) = self.next() else {
            self.ok = false;
            return;
        };
        let mut ok = true;
        let mut len = s.offsets.last().copied().unwrap_or(0);
        for item in items {
            if item.len() != s.members.len() {
                ok = false;
                break;
            }
            for (m, v) in s.members.iter_mut().zip(item) {
                match (m, v) {
                    (LeafBuilder::Str(b), Val::Str(v)) => b.append_option(v),
                    (LeafBuilder::I64(b), Val::I64(v)) => b.append_option(v),
                    _ => ok = false,
                }
            }
            len = len.saturating_add(1);
        }
        s.offsets.push(len);
        self.ok &= ok;
    }

    /// Ends the row: `false` when a value did not fit its column or columns were left
    /// out (a bug in the table's row function; the batch is then unusable).
    pub(super) fn end(mut self) -> bool {
        let complete = self.builders.next().is_none();
        *self.rows = self.rows.saturating_add(1);
        self.ok && complete
    }
}
