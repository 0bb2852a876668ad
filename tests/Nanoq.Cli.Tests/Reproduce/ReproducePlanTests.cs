using Nanoq.Cli.Reproduce;

namespace Nanoq.Cli.Tests.Reproduce;

/// <summary>The plan's cells: ids from configurations, rows shared between tables run once, dependencies first.</summary>
public sealed class ReproducePlanTests
{
    [Fact]
    public void IdsAreStableAndDistinctAndSharedRowsAreOneCell()
    {
        var plan = new ReproducePlan(Budget.Default, 3);
        var again = new ReproducePlan(Budget.Default, 3);
        Assert.Equal(plan.Cells.Select(c => c.Id), again.Cells.Select(c => c.Id));
        Assert.Equal(plan.Cells.Count, plan.Cells.Select(c => c.Id).Distinct().Count());

        // Table 1's ResNet-18 RetinaNet INT4, Table 2a's F+P+C, Table 4's γ = 0.999 and Table 5's FQN: one cell set.
        var rows = plan.Tables.SelectMany(t => t.Rows).ToList();
        var t1 = rows.Single(r => r.Label == "RetinaNet resnet18 INT4").Cells.Select(c => c.Id);
        Assert.Equal(t1, rows.Single(r => r.Label == "γ = 0.999").Cells.Select(c => c.Id));
        Assert.Equal(t1, rows.Single(r => r.Label == "FQN").Cells.Select(c => c.Id));
        Assert.Equal(3, t1.Count());

        // Every fine-tuning comes after its float model; all of Tables 2–5 fine-tune the one shared model.
        var index = plan.Cells.Select((c, i) => (c.Id, i)).ToDictionary(p => p.Id, p => p.i);
        Assert.All(plan.Cells, c => Assert.All(c.DependsOn, d => Assert.True(index[d.Id] < index[c.Id])));
        Assert.All(plan.Tables.Skip(1).SelectMany(t => t.Rows).SelectMany(r => r.Cells).OfType<QuantCell>(), q => Assert.Equal(plan.Main.Id, q.Float.Id));

        // A change of budget is a change of every cell.
        var quick = new ReproducePlan(Budget.Quick, 3);
        Assert.Empty(quick.Cells.Select(c => c.Id).Intersect(plan.Cells.Where(c => c is not RangeCell { Float: null }).Select(c => c.Id)));
    }

    [Fact]
    public void TheSeedCountGivesFsRowsThatManyCells()
    {
        var plan = new ReproducePlan(Budget.Quick, 4);
        var t2 = plan.Tables.Single(t => t.Key == "table2a").Rows;
        Assert.Equal(4, t2.Single(r => r.Label == "P+C").Cells.Count);
        Assert.Single(t2.Single(r => r.Label == "C").Cells);
        Assert.Equal(ReproducePlan.ProbeLayer, plan.ProbeCell.Probe);
        Assert.False(plan.ProbeCell.Recipe.F);
    }
}
