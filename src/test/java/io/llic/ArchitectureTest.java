package io.llic;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The dependency direction of ARCHITECTURE.md: each package uses only those listed above it. */
class ArchitectureTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.llic");

    private static void onlyDependsOn(String pkg, String... allowed) {
        String[] all = new String[allowed.length + 3];
        all[0] = "io.llic." + pkg + "..";
        all[1] = "java..";
        all[2] = "io.llic";
        for (int i = 0; i < allowed.length; i++) {
            all[i + 3] = allowed[i].contains(".") ? allowed[i] : "io.llic." + allowed[i] + "..";
        }
        noClasses().that().resideInAPackage("io.llic." + pkg + "..").should().dependOnClassesThat()
                .resideOutsideOfPackages(all).check(CLASSES);
    }

    @Test
    void lowLevelPackagesUseOnlyTheJdk() {
        onlyDependsOn("image", "javax.imageio..");
        onlyDependsOn("entropy");
        onlyDependsOn("format");
        onlyDependsOn("prob");
        onlyDependsOn("schedule", "image");
    }

    @Test
    void upperPackagesFollowTheDirection() {
        onlyDependsOn("model", "image", "prob", "schedule", "com.fasterxml.jackson..");
        onlyDependsOn("runtime", "model", "ai.djl..");
        onlyDependsOn("codec", "image", "entropy", "format", "prob", "schedule", "model", "runtime");
        // cli may also use the JDK's monitoring API (bench-memory's heap figures)
        onlyDependsOn("cli", "image", "entropy", "format", "prob", "schedule", "model", "runtime", "codec",
                "com.fasterxml.jackson..", "javax.management..", "com.sun.management..");
        onlyDependsOn("train", "image", "schedule", "model", "runtime", "ai.djl..", "org.slf4j..",
                "com.fasterxml.jackson..");
        // Delta Lake (archive-job's tables) belongs to the spark package like Spark itself
        onlyDependsOn("spark", "image", "entropy", "format", "prob", "schedule", "model", "runtime", "codec", "train",
                "org.apache.spark..", "org.apache.hadoop..", "scala..", "org.slf4j..", "com.fasterxml.jackson..",
                "io.delta..");
    }

    @Test
    void onlyArchiveTableImportsDelta() {
        noClasses().that().doNotHaveSimpleName("ArchiveTable").should().dependOnClassesThat().resideInAPackage("io.delta..")
                .check(CLASSES);
    }

    /**
     * The model-family seam: the step loop, the encoder and decoder and the coding jobs see a family only
     * through {@code ModelFamily} and {@code CodingPlan}, never a family's own classes (the causal
     * adaptation's calibration, and training, are the causal family's own business).
     */
    @Test
    void sharedCodeKnowsNoFamily() {
        noClasses().that().resideInAnyPackage("io.llic.codec..", "io.llic.spark..")
                .and().doNotHaveSimpleName("AdaptationCalibration")
                .should().dependOnClassesThat().resideInAnyPackage("io.llic.model.causal..", "io.llic.model.interp..",
                        "io.llic.model.l3c..")
                .check(CLASSES);
        // the training job reaches a family's training pieces only through TrainableFamily (the causal
        // least-squares start, a Spark pass of its own, is the one exception)
        noClasses().that().resideInAPackage("io.llic.spark..").and().doNotHaveSimpleName("TrainBackend")
                .should().dependOnClassesThat().haveSimpleNameStartingWith("Causal").check(CLASSES);
        noClasses().that().resideInAPackage("io.llic.spark..").should().dependOnClassesThat()
                .resideInAnyPackage("io.llic.train.interp..", "io.llic.train.l3c..").check(CLASSES);
    }

    @Test
    void onlyRuntimeAndTrainImportDjl() {
        noClasses().that().resideOutsideOfPackages("io.llic.runtime..", "io.llic.train..").should()
                .dependOnClassesThat().resideInAPackage("ai.djl..").check(CLASSES);
    }

    /**
     * Training code never calls DJL's number overloads whose scalar autograd keeps for the backward
     * pass ({@code mul}, {@code div}, {@code pow}, {@code maximum}, {@code minimum}, {@code mod} and
     * their in-place forms, and the static {@code NDArrays} forms that take a number): DJL closes that scalar as soon as the op returns, and after the next
     * garbage collection {@code backward} read freed memory (the corrupted gradients fixed on
     * 2026-12-03). Such constants go through {@code Scalars.like}. {@code add}/{@code sub}/comparisons
     * with a number stay allowed: their backward does not read the scalar.
     */
    @Test
    void trainingKeepsItsScalarsAlive() {
        var rule = noClasses().that().resideInAPackage("io.llic.train..").should()
                .callMethod(NDArray.class, "mul", Number.class);
        for (String op : List.of("mul", "div", "pow", "maximum", "minimum", "mod", "muli", "divi", "powi", "modi")) {
            rule = rule.orShould().callMethod(NDArray.class, op, Number.class)
                    .orShould().callMethod(NDArrays.class, op, NDArray.class, Number.class)
                    .orShould().callMethod(NDArrays.class, op, Number.class, NDArray.class);
        }
        rule.because("DJL closes the scalar of a number overload while autograd still needs it (use Scalars.like)")
                .check(CLASSES);
    }

    @Test
    void noCycles() {
        slices().matching("io.llic.(*)..").should().beFreeOfCycles().check(CLASSES);
    }
}
